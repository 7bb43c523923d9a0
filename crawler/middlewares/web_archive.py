"""Downloader middlewares for pages fetched from a web archive; other responses pass untouched.

- A Common Crawl record fetched by byte range becomes the response it holds (the site's
  status, headers and body, at the page's own URL), before the WARC capture and the spider
  see it. So the project's WARC keeps the capture as the site served it, and the site parser
  reads exactly what it reads from a crawl.
- A Wayback capture that is a redirect to another page of the site is followed in the
  archive: its Location becomes the replay of the target around the same time, after the
  WARC capture kept it as served. Followed as it stands it would ask the news site itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response

from crawler.addon import config_of
from crawler.meta import WEB_CAPTURE
from crawler.webarchive.cdx import replay_url
from crawler.webarchive.commoncrawl import response_of_record
from crawler.webarchive.options import HistoryOptions

# warcio hands the body decoded: the headers that described its transfer no longer apply
# (left in, Scrapy's decompression would unzip it a second time).
TRANSFER_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class UnwrapWarcRecord:
    """Turns the 206 answer of a record's byte range into the archived response."""

    def process_response(self, request: Request, response: Response) -> Response:
        capture = request.meta.get(WEB_CAPTURE)
        if capture is None or capture.source != "commoncrawl" or response.status != 206:
            return response
        try:
            archived = response_of_record(response.body)
        except ValueError as error:
            # A wrong range or a truncated answer: the data host failed us, said as a 502
            # (Scrapy retries it; in the end it is counted as a server error).
            return response.replace(status=502, body=str(error).encode())
        return response.replace(
            url=archived.url or capture.original,
            status=archived.status,
            headers=Headers(
                [(k, v) for k, v in archived.headers if k.lower() not in TRANSFER_HEADERS]
            ),
            body=archived.body,
        )


class FollowCaptureRedirects:
    """A redirect capture's Location, when it is an article of the site, rewritten to the
    archive's replay of it (Scrapy's redirect middleware then follows it there). A Location
    elsewhere stays: the redirect is counted as a crawl's would be (`offsite_redirect`)."""

    def __init__(self, crawler: Crawler, history: HistoryOptions) -> None:
        self.crawler = crawler
        self.history = history

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FollowCaptureRedirects:
        return cls(crawler, config_of(crawler).history)

    def process_response(self, request: Request, response: Response) -> Response:
        capture = request.meta.get(WEB_CAPTURE)
        location = response.headers.get("Location")
        if capture is None or capture.source != "wayback" or location is None:
            return response
        if not 300 <= response.status < 400:
            return response
        target = urljoin(capture.original, location.decode("latin-1"))
        spider: Any = self.crawler.spider
        if spider is None or spider.parser.identify(target) is None:
            return response
        moved = dataclasses.replace(capture, original=target)
        headers = response.headers.copy()
        headers["Location"] = replay_url(self.history.wayback_replay, moved)
        return response.replace(headers=headers)
