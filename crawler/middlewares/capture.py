"""Every response a crawl fetches, written to the run's WARC file as it crossed the wire.

A downloader middleware placed next to the downloader (DOWNLOADER_MIDDLEWARES 950), so it
sees each response before HttpCompressionMiddleware decodes the body and before redirects and
retries act on it: articles, rejected and challenge pages, listing API responses, sitemaps,
robots.txt and every 3xx/5xx on the way. Twisted has already removed the chunked transfer
coding, so the stored headers drop `Transfer-Encoding` and state the stored length; the
content coding (gzip, br) is kept as served, which is what replay tools expect.

The capture's place (`WarcRef`) goes into the request's meta under CAPTURE, where the spider
reads it into the FetchedPage and the archive record. A page rendered in Chromium is written
as a `conversion` record pointing at the challenge response it replaced; a response whose
payload is identical to a capture the spider names (PREVIOUS_CAPTURE) is a `revisit` record.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

import scrapy
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread

from crawler import software_version
from crawler.addon import config_of
from crawler.meta import CAPTURE, CAPTURE_OF_ID, PREVIOUS_CAPTURE
from crawler.stats import Stat
from pipelines.archive import WARC_RECORDER
from pipelines.warc import (
    MIB,
    WarcRecorder,
    WarcRef,
    payload_digest,
    record_id,
    status_line,
    warc_date,
)

# Hop-by-hop coding Twisted undid before Scrapy saw the body: stating it would break replay.
UNDONE_HEADERS = frozenset({b"transfer-encoding"})
LOG = logging.getLogger("newsarchive.capture")


def warcinfo(crawler: Crawler, site: str) -> dict[str, str]:
    """The warcinfo fields of a run's files: who captured what, how, under which policy."""
    config = config_of(crawler)
    robots = "obey" if crawler.settings.getbool("ROBOTSTXT_OBEY") else "ignore"
    info = {
        "software": f"newsarchive/{software_version()} (Scrapy {scrapy.__version__}, warcio)",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "http-header-user-agent": crawler.settings.get("USER_AGENT") or config.crawl.user_agent,
        "robots": robots,
        "isPartOf": f"newsarchive-{site}",
    }
    if config.warc.operator:
        info["operator"] = config.warc.operator
    return info


class WarcCapture:
    """Write each response (with its request) to the crawler's WARC recorder."""

    def __init__(self, crawler: Crawler, recorder: WarcRecorder) -> None:
        self.crawler = crawler
        self.recorder = recorder
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        config = config_of(crawler)
        if not config.warc.enabled:
            raise NotConfigured("[warc] enabled = false")
        site = crawler.spidercls.name
        recorder = WarcRecorder(
            config.archive.spool_dir,
            site,
            warcinfo(crawler, site),
            int(config.warc.rotate_mib * MIB),
        )
        setattr(crawler, WARC_RECORDER, recorder)
        return cls(crawler, recorder)

    async def process_request(self, request: Request) -> None:
        """For a page that may be archived already, find its capture (two reads) first."""
        article_id = request.meta.pop(CAPTURE_OF_ID, None)
        spider = self.crawler.spider
        state = getattr(spider, "state", None)
        if article_id is None or state is None or PREVIOUS_CAPTURE in request.meta:
            return
        site = getattr(spider, "site", self.recorder.site)
        previous = await run_in_thread(state.latest_capture, site, article_id)
        if previous:
            request.meta[PREVIOUS_CAPTURE] = previous

    async def process_response(self, request: Request, response: Response) -> Response:
        if self.failed:
            request.meta.pop(CAPTURE, None)  # not the capture of an earlier hop
            return response
        try:
            # In a thread: compression and digests release the GIL, so the capture runs
            # beside the reactor (2 cores) instead of holding it up.
            ref = await run_in_thread(self._capture, request, response, datetime.now(UTC))
        except OSError as error:
            # The page itself is not lost: without a capture the archive keeps its raw body
            # as before. Said once, counted, and the rest of the run goes on uncaptured.
            self.failed = True
            request.meta.pop(CAPTURE, None)
            self.crawler.stats.inc_value(Stat.WARC_FAILED)
            LOG.error("WARC capture stopped: %s: %s", self.recorder.folder, error.strerror or error)
            return response
        request.meta[CAPTURE] = ref.to_dict()
        self.crawler.stats.inc_value(Stat.of_warc_record(ref.record_type))
        return response

    def _capture(self, request: Request, response: Response, now: datetime) -> WarcRef:
        if request.meta.get("playwright"):
            return self._rendering(request, response, now)
        builder = self.recorder.builder
        status = status_line(response.status)
        protocol = response.protocol or "HTTP/1.1"
        headers = _response_headers(response)
        ip = str(response.ip_address) if response.ip_address else None
        digest = payload_digest(response.body)
        previous = request.meta.get(PREVIOUS_CAPTURE)
        if previous and response.status == 304:
            # The server confirms the capture it was asked about: a not-modified revisit.
            original = WarcRef.from_dict(previous)
            record = builder.not_modified(response.url, now, ip, original)
            kind = "revisit"
            digest = original.payload_digest or digest
        elif previous and previous.get("payload_digest") == digest and response.status == 200:
            original = WarcRef.from_dict(previous)
            record = builder.revisit(response.url, status, protocol, headers, now, ip, original)
            kind = "revisit"
        else:
            record = builder.response(
                response.url, status, protocol, headers, response.body, now, ip
            )
            kind = "response"
        sent = builder.request(
            response.url,
            _request_line(request, protocol),
            _request_headers(request),
            request.body,
            now,
            record_id(record),
        )
        (key, offset, length), request_place = self.recorder.write([record, sent])
        # A revisit record has no payload: the response it repeats comes first in `related`.
        related: tuple[tuple[str, int, int], ...] = (request_place,)
        if kind == "revisit":
            related = ((original.key, original.offset, original.length), request_place)
        return WarcRef(
            key,
            offset,
            length,
            record_id(record),
            kind,
            response.url,
            warc_date(now),
            digest,
            related=related,
        )

    def _rendering(self, request: Request, response: Response, now: datetime) -> WarcRef:
        """The DOM Chromium built, as a conversion of the response that was a challenge."""
        source = request.meta.get(CAPTURE)
        origin = WarcRef.from_dict(source) if source else None
        content_type = (response.headers.get("Content-Type") or b"text/html").decode("latin-1")
        record = self.recorder.builder.conversion(
            response.url, response.body, content_type, now, origin.record_id if origin else None
        )
        [(key, offset, length)] = self.recorder.write([record])
        return WarcRef(
            key,
            offset,
            length,
            record_id(record),
            "conversion",
            response.url,
            warc_date(now),
            payload_digest(response.body),
            related=tuple(origin.ranges()) if origin else (),
        )


def _response_headers(response: Response) -> list[tuple[str, str]]:
    """The headers as served, except the transfer coding undone: the stored payload's length
    is stated instead (replay tools read exactly Content-Length bytes)."""
    headers: list[tuple[str, str]] = []
    for name, values in response.headers.items():
        if name.lower() in UNDONE_HEADERS or name.lower() == b"content-length":
            continue
        headers.extend((name.decode("latin-1"), value.decode("latin-1")) for value in values)
    headers.append(("Content-Length", str(len(response.body))))
    return headers


def _request_line(request: Request, protocol: str) -> str:
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{request.method} {target} {protocol}"


def _request_headers(request: Request) -> list[tuple[str, str]]:
    host = urlsplit(request.url).netloc
    headers: list[tuple[str, str]] = [("Host", host)]
    for name, values in request.headers.items():
        for value in values:
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
    return headers
