"""A local mirror of the sites on 127.0.0.1: fixture pages served with their recorded headers.

Each real host is served under its own path prefix (`/<host>/<path>`),
so a site's `base_url` setting of `http://127.0.0.1:<port>/<host>` makes the spiders crawl the
mirror with exactly the code that crawls the live site.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from crawler.mirror.fixtures import Fixture
from crawler.parsers import identify

# Headers describing the transfer, not the page: the mirror sends the bytes unencoded.
HOP_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"


@dataclass(frozen=True)
class Route:
    """One served resource."""

    status: int
    headers: dict[str, str]
    body: bytes
    # Fault injection: announce more bytes than are sent, then close (a truncated response).
    truncated: bool = False


# A dynamic resource (a listing API): (query, request headers, request body) -> the response.
Handler = Callable[[dict[str, list[str]], dict[str, str], bytes], Route]


def entity_tag(route: Route) -> str:
    """The ETag the mirror sends for a page (a digest of its body), so that conditional
    requests (If-None-Match) get 304 Not Modified as long as the page is unchanged."""
    return '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'


def _article_path(url: str) -> str:
    """The mirror path of an article given by any of its URLs (served at its canonical one)."""
    ref = identify(url)
    return mirror_path(ref.url if ref else url)


def mirror_path(url: str) -> str:
    """Path of a real URL on the mirror: `/<host><path>[?query]`."""
    parts = urlsplit(url)
    return f"/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def fixture_routes(fixtures: Iterable[Fixture]) -> dict[str, Route]:
    """Serve each fixture at the mirror path of its canonical article URL."""
    routes = {}
    for fixture in fixtures:
        canonical = identify(fixture.url).url
        routes[mirror_path(canonical)] = Route(fixture.status, fixture.headers, fixture.body)
    return routes


class MirrorServer:
    """A threaded HTTP server bound to 127.0.0.1 on a free port (or the one given)."""

    def __init__(
        self,
        routes: dict[str, Route],
        port: int = 0,
        delay: float = 0.0,
        handlers: Mapping[str, Handler] | None = None,
        wire_coding: bool = False,
        fallback: Callable[[str], Route] | None = None,
    ) -> None:
        self.routes = dict(routes)
        # What answers a path no route or handler knows (a test's proxy to another server).
        self.fallback = fallback
        # As the real sites send pages: gzip when the client accepts it, in chunks.
        self.wire_coding = wire_coding
        self.handlers = dict(handlers or {})  # dynamic listing endpoints, by path
        self.delay = delay  # seconds per response, to stretch a crawl in failure tests
        self.routes.setdefault(
            "/robots.txt", Route(200, {"Content-Type": "text/plain"}, ROBOTS_TXT)
        )
        self.requests: list[str] = []
        self.request_times: list[float] = []  # time.monotonic() of each request, as served
        self.request_log: list[tuple[str, dict[str, str], bytes]] = []  # path, headers, body
        handler = _handler_for(self)
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def base_url(self, real_origin: str) -> str:
        """The base URL that stands in for a real origin (`https://<host>` -> `<mirror>/<host>`)."""
        return f"{self.url}/{urlsplit(real_origin).netloc}"

    def edit(self, url: str, old: bytes, new: bytes) -> None:
        """Edit the page of a real article URL in place (a correction after publication)."""
        path = _article_path(url)
        route = self.routes[path]
        if old not in route.body:
            raise ValueError(f"{old!r} is not on {url}")
        self.routes[path] = replace(route, body=route.body.replace(old, new, 1))

    def delete(self, url: str, answer: Route | None = None) -> Route:
        """Take an article down: it answers 404, or `answer` (the site's "deleted" page, a
        redirect home). Returns the page as it was, for `restore`."""
        path = _article_path(url)
        before = self.routes[path]
        self.routes[path] = answer or Route(404, {"Content-Type": "text/html"}, b"<h1>404</h1>")
        return before

    def restore(self, url: str, route: Route) -> None:
        """Put a deleted article back."""
        self.routes[_article_path(url)] = route

    def start(self) -> MirrorServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a killed crawl, a timeout) is not the mirror's error."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler_for(server: MirrorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            server.request_times.append(time.monotonic())
            server.requests.append(self.path)
            if server.delay:
                time.sleep(server.delay)
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.request_log.append((self.path, headers, body))
            handler = server.handlers.get(path)
            route: Route | None
            if handler is not None:
                route = handler(parse_qs(query), headers, body)
            else:
                route = server.routes.get(self.path) or server.routes.get(path)
            if route is None and server.fallback is not None:
                route = server.fallback(self.path)
            if route is None:
                route = Route(404, {"Content-Type": "text/plain"}, b"not in the mirror\n")
            etag = entity_tag(route) if route.status == 200 else None
            if etag and headers.get("if-none-match") == etag:
                self.send_response_only(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            # send_response_only: the recorded Date/Server are replayed, not replaced by ours
            # (year-less dates on some pages are resolved against the served Date header).
            self.send_response_only(route.status)
            recorded = {name.lower() for name in route.headers}
            if "date" not in recorded:
                self.send_header("Date", self.date_time_string())
            if etag and "etag" not in recorded:
                self.send_header("ETag", etag)
            for name, value in route.headers.items():
                if name.lower() not in HOP_HEADERS:
                    self.send_header(name, value)
            if server.wire_coding and "gzip" in headers.get("accept-encoding", ""):
                self._send_coded(route.body)
                return
            announced = len(route.body) + (1000 if route.truncated else 0)
            self.send_header("Content-Length", str(announced))
            self.end_headers()
            self.wfile.write(route.body)
            if route.truncated:
                self.close_connection = True

        def _send_coded(self, body: bytes) -> None:
            """gzip content coding, chunked transfer coding (two chunks and the last)."""
            coded = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(coded) // 2
            for chunk in (coded[:half], coded[half:], b""):
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the crawl's own log says what was fetched."""

    return Handler
