"""A capture fetched from the web archive that holds it, and the page said to be that capture.

Two functions, used wherever a request carries a capture: the history crawl's own requests
(crawler/webarchive/source.py) and frontier entries queued with one (`backfill --from`,
crawler/frontier/workers.py). Nothing else of the spider changes: the site parser, the
outcome accounting, the WARC capture and the archive pipeline are the site spider's.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC
from typing import Any

import scrapy

from crawler.items import FetchedPage
from crawler.meta import WEB_CAPTURE
from crawler.webarchive.cdx import Capture, replay_url
from crawler.webarchive.options import HistoryOptions


def replay_request(
    request: scrapy.Request, capture: Capture, history: HistoryOptions
) -> scrapy.Request:
    """The site spider's article request, sent to the archive instead: the Wayback replay
    of the capture, or Common Crawl's WARC record by byte range (unwrapped into the response
    it holds by crawler/middlewares/web_archive.py). The caller lets the crawl ask its host."""
    meta = {**request.meta, WEB_CAPTURE: capture}
    if capture.source == "commoncrawl" and capture.filename and capture.offset is not None:
        end = capture.offset + (capture.length or 1) - 1
        return request.replace(
            url=f"{history.commoncrawl_data.rstrip('/')}/{capture.filename}",
            headers={"Range": f"bytes={capture.offset}-{end}"},
            meta=meta,
            dont_filter=True,
        )
    return request.replace(
        url=replay_url(history.wayback_replay, capture), meta=meta, dont_filter=True
    )


def as_captured(page: FetchedPage, response: Any) -> FetchedPage:
    """The page as the capture it is, when its request fetched one: `fetched_at` is the
    capture's time, `source_url` the URL the archive captured, `fetched_from` where it was
    found; any other page unchanged."""
    # A failure's response (an offsite redirect) may be tied to no request: no meta.
    request = response.request
    capture = request.meta.get(WEB_CAPTURE) if request is not None else None
    if not isinstance(capture, Capture):
        return page
    fetched_url = page.fetched_url
    if capture.source == "commoncrawl" and request is not None:
        fetched_url = request.url  # the data file the record was read from
    return dataclasses.replace(
        page,
        fetched_url=fetched_url,
        source_url=capture.original,
        fetched_at=capture.captured_at.astimezone(UTC),
        fetched_from=capture.provenance(response.url),
    )
