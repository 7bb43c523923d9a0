"""A web archive as a site's discovery source: its captures instead of the site's listings.

`crawl --from wayback|commoncrawl` (the spider argument `from_archive`) gives a site's spider a
`CaptureSource` in place of its own listings: CDX queries for every URL form of the site, one
capture chosen per article (or every change of it, `--all-captures`), each fetched from the
archive's replay, never from the news site (crawler/webarchive/replay.py). The site parser,
the outcome accounting, the WARC capture and the archive pipeline stay the site spider's.
When the run seeds the frontier (`backfill --from`), each article is queued with its capture.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from logging import Logger, LoggerAdapter
from typing import Any, Protocol

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from crawler.items import BEIJING
from crawler.parsers.base import PageRef, SiteParser
from crawler.sites import SITES
from crawler.webarchive.cdx import (
    Capture,
    CaptureBook,
    cdx_query,
    page_count,
    parse_cdx,
)
from crawler.webarchive.chain import CaptureChain
from crawler.webarchive.commoncrawl import crawls_in_range
from crawler.webarchive.options import HistoryOptions
from crawler.webarchive.replay import replay_request

# How far back a range without --since starts: the archives hold every year.
DEFAULT_YEARS = 1


class Discovery(Protocol):
    """What the source asks of the spider's request plan (crawler/spiders/plan.py)."""

    since: datetime | None
    until: datetime | None

    async def discovered(
        self,
        url: str,
        published: datetime | None,
        listing: str,
        queued_with: Mapping[str, Any] | None = None,
    ) -> scrapy.Request | None: ...

    def allow_host(self, url: str) -> None: ...


class ListingErrors(Protocol):
    """How a listing that failed or changed shape is said (crawler/spiders/sources.py)."""

    def error(self, response: Response, why: str) -> None: ...

    def failed(self, failure: Failure) -> None: ...


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


class CaptureSource:
    """Discovery from a web archive's CDX index; each capture chosen is fetched from the
    archive, or, when the run seeds the frontier, queued with its capture.

    Every URL form of the site is asked for its number of pages first (`showNumPages`, what
    the Wayback Machine's and Common Crawl's ZipNum indexes answer), then page by page: a
    year of a busy site does not fit one answer. Captures are chosen once every page of
    every query has been read, since one article's captures can come in several."""

    def __init__(
        self,
        archive: str,
        *,
        site: str,
        plan: Discovery,
        listing: ListingErrors,
        parser: SiteParser,
        history: HistoryOptions,
        state: Any,
        crawler: Crawler,
        logger: Logger | LoggerAdapter[Any],
        every_capture: bool = False,
        outcome_listeners: list[Callable[[str, str | None], None]] | None = None,
    ) -> None:
        self.archive, self.site, self.plan, self.listing = archive, site, plan, listing
        self.parser, self.history, self.state, self.logger = parser, history, state, logger
        self.every_capture = every_capture
        self.book = CaptureBook(keep_all=every_capture)
        self.cdx_waiting = 0  # CDX requests sent and not answered yet
        self.chain = CaptureChain(crawler, site, self.replay)
        if outcome_listeners is not None:
            outcome_listeners.append(self.chain.outcome)

    def replay(self, request: scrapy.Request, ref: PageRef, capture: Capture) -> scrapy.Request:
        """The article's request, sent to the archive that holds `capture`."""
        replay = replay_request(request, capture, self.history)
        self.plan.allow_host(replay.url)
        return replay

    async def start(self) -> AsyncIterator[scrapy.Request]:
        await run_in_thread(self.state.flush)  # outcomes a killed run journaled
        for url in self.history.endpoints(self.archive):
            self.plan.allow_host(url)
        since, until = self.day_range()
        if self.archive == "commoncrawl":
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
            self.listing.error(response, f"not Common Crawl's collinfo.json: {error}")
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
            self.plan.allow_host(crawl.cdx_api)
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
            captures = parse_cdx(response.text, self.archive, asked.collection)
        except (ValueError, AttributeError) as error:
            self.listing.error(response, f"not a CDX answer: {error}")
            return
        asked.captures += self.book.add(captures, self.parser.identify)

    def log_read(self, asked: Asked, since: date, until: date) -> None:
        if asked.captures:
            self.logger.info("%s: %d captures of %s", self.archive, asked.captures, asked.where)
        else:
            self.logger.info(
                "%s: no captures of %s from %s to %s",
                self.archive,
                asked.where,
                since,
                until,
            )

    async def cdx_failed(self, failure: Failure) -> AsyncIterator[Any]:
        """An index request that failed after retries: a discovery error (never 'no
        captures'); the captures the other pages gave are still fetched."""
        self.cdx_waiting -= 1
        self.listing.failed(failure)
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
            "%s: %d captures of %d articles", self.archive, self.book.captures, len(chosen)
        )
        self.book = CaptureBook()
        for ref, captures in chosen:
            first = captures[0]
            request = await self.plan.discovered(
                first.original, None, self.archive, queued_with=first.as_data()
            )
            if request is not None:
                self.chain.chain(request, ref, captures[1:])
                yield self.replay(request, ref, first)

    def day_range(self) -> tuple[date, date]:
        """The capture days asked for: --since/--until (Beijing days), by default a year."""
        until = (self.plan.until - timedelta(days=1)) if self.plan.until else datetime.now(BEIJING)
        since = self.plan.since or (until - timedelta(days=365 * DEFAULT_YEARS))
        return since.date(), until.date()
