"""A site's spider, discovering from a web archive instead of the site's listings.

`history_spider(...)` wraps a site's spider class (the run path's `spider_class` hook): the
site parser, the outcome accounting, the WARC capture and the archive pipeline stay the
site spider's. What changes is where URLs come from (CDX queries for every URL form of the
site, one capture chosen per article), where bytes come from (the archive's replay, never the
news site), and what the page says about itself: `fetched_at` is the capture's time and
`fetched_from` where it was found.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from crawler.items import BEIJING, FetchedPage
from crawler.meta import WEB_CAPTURE
from crawler.parsers.base import PageRef
from crawler.sites import SITES
from crawler.webarchive.cdx import (
    Capture,
    CaptureBook,
    cdx_query,
    page_count,
    parse_cdx,
    replay_url,
)
from crawler.webarchive.chain import CaptureChain
from crawler.webarchive.commoncrawl import crawls_in_range
from crawler.webarchive.options import HistoryOptions

# How far back a range without --since starts: the archives hold every year.
DEFAULT_YEARS = 1


def history_spider(source: str) -> Callable[[type], type]:
    """The run path's `spider_class` hook: each site's spider, fed from `source`."""

    def wrap(spider_class: type) -> type:
        attributes = {"history_source": source}
        return type(f"{spider_class.__name__}FromHistory", (HistoryCrawl, spider_class), attributes)

    return wrap


class CaptureFetch:
    """Mixin placed before a site spider: an article request sent to the web archive that
    holds its capture, and the page said to be that capture. The history crawl builds on it,
    and so do frontier workers, whose queue entries can carry a capture (`backfill --from`)."""

    # Provided by the site spider this mixin is combined with:
    config: Any
    allowed_domains: list[str]

    def replay_request(self, request: scrapy.Request, ref: PageRef, capture: Capture) -> Any:
        """The site spider's article request, sent to the archive instead: the Wayback
        replay of the capture, or Common Crawl's WARC record by byte range (unwrapped into
        the response it holds by crawler/middlewares/web_archive.py)."""
        history: HistoryOptions = self.config.history
        meta = {**request.meta, WEB_CAPTURE: capture}
        if capture.source == "commoncrawl" and capture.filename and capture.offset is not None:
            end = capture.offset + (capture.length or 1) - 1
            replay = request.replace(
                url=f"{history.commoncrawl_data.rstrip('/')}/{capture.filename}",
                headers={"Range": f"bytes={capture.offset}-{end}"},
                meta=meta,
                dont_filter=True,
            )
        else:
            replay = request.replace(
                url=replay_url(history.wayback_replay, capture), meta=meta, dont_filter=True
            )
        self.allow_host(replay.url)
        return replay

    def allow_host(self, url: str) -> None:
        """The archive's host is asked too (Scrapy's offsite filter re-reads the list)."""
        host = urlsplit(url).hostname or ""
        if host and host not in self.allowed_domains:
            self.allowed_domains.append(host)

    def _page(
        self, response: Response, ref: PageRef, source_url: str, rendered: bool = False
    ) -> FetchedPage:
        page: FetchedPage = super()._page(response, ref, source_url, rendered)  # type: ignore[misc]
        # A failure's response (an offsite redirect) may be tied to no request: no meta.
        capture = response.request.meta.get(WEB_CAPTURE) if response.request else None
        if not isinstance(capture, Capture):
            return page
        fetched_url = page.fetched_url
        if capture.source == "commoncrawl" and response.request is not None:
            fetched_url = response.request.url  # the data file the record was read from
        return dataclasses.replace(
            page,
            fetched_url=fetched_url,
            source_url=capture.original,
            fetched_at=capture.captured_at.astimezone(UTC),
            fetched_from=capture.provenance(response.url),
        )


@dataclass
class Asked:
    """One CDX query (a URL form in one collection) while its pages are read."""

    endpoint: str
    prefix: str
    collection: str | None
    pages_left: int = 1
    captures: int = 0

    @property
    def where(self) -> str:
        return f"{self.prefix} in {self.collection}" if self.collection else self.prefix


class HistoryCrawl(CaptureChain, CaptureFetch):
    """Mixin placed before a site spider (crawler/spiders/base.py ArticleSpider): discovery
    from a web archive's CDX index; each capture chosen is fetched from the archive, or,
    when the run seeds the frontier (`backfill --from`), queued with its capture.

    Every URL form of the site is asked for its number of pages first (`showNumPages`, what
    the Wayback Machine's and Common Crawl's ZipNum indexes answer), then page by page: a
    year of a busy site does not fit one answer. Captures are chosen once every page of
    every query has been read, since one article's captures can come in several."""

    history_source: str
    all_captures: Any = False  # spider argument: every change of content, as versions
    # Provided by the site spider this mixin is combined with:
    site: str
    since: datetime | None
    until: datetime | None
    logger: Any
    parser: Any
    state: Any
    discovered: Callable[..., Any]
    discovery_error: Callable[..., None]
    listing_failed: Callable[..., None]
    # This run's CDX bookkeeping (set in start):
    book: CaptureBook
    cdx_waiting: int  # CDX requests sent and not answered yet

    @property
    def history(self) -> HistoryOptions:
        return self.config.history

    @property
    def every_capture(self) -> bool:
        return str(self.all_captures).lower() in ("1", "true", "yes")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        await run_in_thread(self.state.flush)  # outcomes a killed run journaled
        self.book, self.cdx_waiting = CaptureBook(keep_all=self.every_capture), 0
        for url in self.history.endpoints(self.history_source):
            self.allow_host(url)
        since, until = self.day_range()
        if self.history_source == "commoncrawl":
            yield self.cdx_request(
                self.history.commoncrawl_index, self.parse_collinfo, since=since, until=until
            )
            return
        for prefix in SITES[self.site].archive_prefixes:
            yield self.count_request(Asked(self.history.wayback_cdx, prefix, None), since, until)

    def cdx_request(self, url: str, callback: Callable[..., Any], **kwargs: Any) -> Any:
        """A request to the web archive's index, counted until it is answered. Common
        Crawl's index answers 404 for "nothing here": that is no captures, not a failure."""
        self.cdx_waiting += 1
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.cdx_failed,
            cb_kwargs=kwargs,
            meta={"handle_httpstatus_list": [404]},
            dont_filter=True,
        )

    def count_request(self, asked: Asked, since: date, until: date) -> Any:
        url = cdx_query(
            asked.endpoint,
            asked.prefix,
            since,
            until,
            count_pages=True,
            page_size=self.history.cdx_page_size,
        )
        return self.cdx_request(url, self.parse_page_count, asked=asked, since=since, until=until)

    async def parse_collinfo(
        self, response: Response, since: date, until: date
    ) -> AsyncIterator[Any]:
        """Common Crawl's list of crawls: the index of each crawl that covers the range."""
        self.cdx_waiting -= 1
        try:
            crawls = crawls_in_range(json.loads(response.text), since, until)
        except (ValueError, AttributeError) as error:
            self.discovery_error(response, f"not Common Crawl's collinfo.json: {error}")
            crawls = []
        else:
            if not crawls:
                self.logger.info("commoncrawl: no crawl covers %s to %s", since, until)
            else:
                self.logger.info(
                    "commoncrawl: %d crawls cover %s to %s: %s",
                    len(crawls),
                    since,
                    until,
                    ", ".join(crawl.id for crawl in crawls),
                )
        for crawl in crawls:
            self.allow_host(crawl.cdx_api)
            for prefix in SITES[self.site].archive_prefixes:
                yield self.count_request(Asked(crawl.cdx_api, prefix, crawl.id), since, until)
        async for request in self.when_all_read():
            yield request

    async def parse_page_count(
        self, response: Response, asked: Asked, since: date, until: date
    ) -> AsyncIterator[Any]:
        """How many pages the query has: one request each. An index that does not page
        answers with captures instead, and not always filtered (pywb over a plain .cdxj
        ignores the dates then): the query is asked again, whole."""
        self.cdx_waiting -= 1
        pages = page_count(response.text) if response.status != 404 else 0
        if pages is None:
            asked.pages_left = 1
            url = cdx_query(asked.endpoint, asked.prefix, since, until)
            yield self.cdx_request(url, self.parse_captures, asked=asked, since=since, until=until)
        else:
            asked.pages_left = pages
            if not pages:
                self.log_read(asked, since, until)
            for page in range(pages):
                url = cdx_query(
                    asked.endpoint,
                    asked.prefix,
                    since,
                    until,
                    page=page,
                    page_size=self.history.cdx_page_size,
                )
                yield self.cdx_request(
                    url, self.parse_captures, asked=asked, since=since, until=until
                )
        async for request in self.when_all_read():
            yield request

    async def parse_captures(
        self, response: Response, asked: Asked, since: date, until: date
    ) -> AsyncIterator[Any]:
        """One page of captures under a URL form."""
        self.cdx_waiting -= 1
        asked.pages_left -= 1
        if response.status != 404:
            self.read_captures(response, asked)
        if asked.pages_left == 0:
            self.log_read(asked, since, until)
        async for request in self.when_all_read():
            yield request

    def read_captures(self, response: Response, asked: Asked) -> None:
        try:
            captures = parse_cdx(response.text, self.history_source, asked.collection)
        except (ValueError, AttributeError) as error:
            self.discovery_error(response, f"not a CDX answer: {error}")
            return
        asked.captures += self.book.add(captures, self.parser.identify)

    def log_read(self, asked: Asked, since: date, until: date) -> None:
        if asked.captures:
            self.logger.info(
                "%s: %d captures of %s", self.history_source, asked.captures, asked.where
            )
        else:
            self.logger.info(
                "%s: no captures of %s from %s to %s",
                self.history_source,
                asked.where,
                since,
                until,
            )

    async def cdx_failed(self, failure: Failure) -> AsyncIterator[Any]:
        """An index request that failed after retries: a discovery error (never 'no
        captures'); the captures the other pages gave are still fetched."""
        self.cdx_waiting -= 1
        self.listing_failed(failure)
        async for request in self.when_all_read():
            yield request

    async def when_all_read(self) -> AsyncIterator[Any]:
        """Once every CDX answer is in: one request (or queue entry) per article."""
        if self.cdx_waiting:
            return
        chosen = (
            self.book.changes()
            if self.every_capture
            else [(ref, [capture]) for ref, capture in self.book.chosen()]
        )
        self.logger.info(
            "%s: %d captures of %d articles", self.history_source, self.book.captures, len(chosen)
        )
        self.book = CaptureBook()
        for ref, captures in chosen:
            first = captures[0]
            request = await self.discovered(
                first.original, None, self.history_source, queued_with=first.as_data()
            )
            if request is not None:
                self.chain(request, ref, captures[1:])
                yield self.replay_request(request, ref, first)

    def day_range(self) -> tuple[date, date]:
        """The capture days asked for: --since/--until (Beijing days), by default a year."""
        until = (self.until - timedelta(days=1)) if self.until else datetime.now(BEIJING)
        since = self.since or (until - timedelta(days=365 * DEFAULT_YEARS))
        return since.date(), until.date()
