"""An HTTP proxy in front of an S3 server that adds latency and counts requests in flight.

weed mini on 127.0.0.1 answers in about a millisecond; a real S3 takes tens of milliseconds
to its first byte. A reader that makes one request at a time is fast on loopback and slow in
production, so readers at scale are measured (bench/read_scale.py) and their parallelism
tested (tests/test_catalog.py) through this: every request waits `delay` seconds before it is
forwarded, and the proxy counts requests by method and the most it held at once.

Clients sign for the proxy's address (SigV4 covers the Host header), so the request goes on
with its Host header unchanged; weed checks the signature against what the client signed.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class LatencyProxy:
    """`with LatencyProxy(upstream, delay=0.02) as proxy:` then use `proxy.endpoint`."""

    def __init__(self, upstream: str, delay: float = 0.02) -> None:
        self.upstream = urlsplit(upstream)
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: Counter[str] = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self) -> None:
        with self.lock:
            self.max_in_flight = 0
            self.requests.clear()

    def total(self) -> int:
        with self.lock:
            return sum(self.requests.values())

    def __enter__(self) -> LatencyProxy:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            upstream: http.client.HTTPConnection | None = None

            def log_message(self, *_: Any) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    proxy.in_flight += 1
                    proxy.max_in_flight = max(proxy.max_in_flight, proxy.in_flight)
                    proxy.requests[self.command] += 1
                try:
                    time.sleep(proxy.delay)
                    status, headers, payload = self._ask(body)
                finally:
                    with proxy.lock:
                        proxy.in_flight -= 1
                self.send_response_only(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                declared = next((v for n, v in headers if n.lower() == "content-length"), None)
                if self.command == "HEAD" and declared is not None:
                    self.send_header("Content-Length", declared)
                else:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _ask(self, body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
                for attempt in (1, 2):  # a kept-alive upstream connection may have closed
                    if self.upstream is None:
                        self.upstream = http.client.HTTPConnection(
                            proxy.upstream.hostname or "127.0.0.1", proxy.upstream.port, timeout=60
                        )
                    try:
                        self.upstream.putrequest(
                            self.command, self.path, skip_host=True, skip_accept_encoding=True
                        )
                        for name, value in self.headers.items():
                            if name.lower() not in HOP_BY_HOP:
                                self.upstream.putheader(name, value)
                        self.upstream.endheaders(body)
                        answer = self.upstream.getresponse()
                        return answer.status, answer.getheaders(), answer.read()
                    except (http.client.HTTPException, OSError):
                        self.upstream.close()
                        self.upstream = None
                        if attempt == 2:
                            raise
                raise AssertionError("unreachable")

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        return Handler
