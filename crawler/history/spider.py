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
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread

from crawler.history.captures import Capture, cdx_query, choose, parse_cdx, replay_url
from crawler.history.commoncrawl import crawls_in_range
from crawler.history.options import HistoryOptions
from crawler.items import BEIJING, FetchedPage
from crawler.parsers.base import PageRef
from crawler.sites import SITES

WEB_CAPTURE = "newsarchive_web_archive_capture"  # request meta: the Capture a replay fetches
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


class HistoryCrawl(CaptureFetch):
    """Mixin placed before a site spider (crawler/spiders/base.py ArticleSpider): discovery
    from a web archive's CDX index; each capture chosen is fetched from the archive, or,
    when the run seeds the frontier (`backfill --from`), queued with its capture."""

    history_source: str
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

    @property
    def history(self) -> HistoryOptions:
        return self.config.history

    async def start(self) -> AsyncIterator[scrapy.Request]:
        await run_in_thread(self.state.flush)  # outcomes a killed run journaled
        for url in self.history.endpoints(self.history_source):
            self.allow_host(url)
        since, until = self.day_range()
        if self.history_source == "commoncrawl":
            yield scrapy.Request(
                self.history.commoncrawl_index,
                callback=self.parse_collinfo,
                errback=self.listing_failed,
                cb_kwargs={"since": since, "until": until},
                dont_filter=True,
            )
            return
        for request in self.cdx_requests(self.history.wayback_cdx, since, until, None):
            yield request

    def cdx_requests(
        self, endpoint: str, since: date, until: date, collection: str | None
    ) -> list[scrapy.Request]:
        """One CDX query per URL form of the site. Common Crawl's index answers 404 for
        "nothing here": that is no captures, not a failure."""
        requests = []
        for prefix in SITES[self.site].archive_prefixes:
            asked = {"prefix": prefix, "since": since, "until": until, "collection": collection}
            requests.append(
                scrapy.Request(
                    cdx_query(endpoint, prefix, since, until),
                    callback=self.parse_captures,
                    errback=self.listing_failed,
                    cb_kwargs=asked,
                    meta={"handle_httpstatus_list": [404]},
                    dont_filter=True,
                )
            )
        return requests

    def parse_collinfo(self, response: Response, since: date, until: date) -> list[Any]:
        """Common Crawl's list of crawls: the index of each crawl that covers the range."""
        try:
            crawls = crawls_in_range(json.loads(response.text), since, until)
        except (ValueError, AttributeError) as error:
            self.discovery_error(response, f"not Common Crawl's collinfo.json: {error}")
            return []
        if not crawls:
            self.logger.info("commoncrawl: no crawl covers %s to %s", since, until)
            return []
        self.logger.info(
            "commoncrawl: %d crawls cover %s to %s: %s", len(crawls), since, until,
            ", ".join(crawl.id for crawl in crawls),
        )  # fmt: skip
        for crawl in crawls:
            self.allow_host(crawl.cdx_api)
        return [r for crawl in crawls for r in self.cdx_requests(crawl.cdx_api, since, until,
                                                                  crawl.id)]  # fmt: skip

    def day_range(self) -> tuple[date, date]:
        """The capture days asked for: --since/--until (Beijing days), by default a year."""
        until = (self.until - timedelta(days=1)) if self.until else datetime.now(BEIJING)
        since = self.since or (until - timedelta(days=365 * DEFAULT_YEARS))
        return since.date(), until.date()

    async def parse_captures(
        self,
        response: Response,
        prefix: str,
        since: date,
        until: date,
        collection: str | None = None,
    ) -> AsyncIterator[scrapy.Request]:
        """One request per article captured under `prefix` in the range."""
        where = f"{prefix} in {collection}" if collection else prefix
        if response.status == 404:  # Common Crawl's index: nothing under this prefix
            self.logger.info(
                "%s: no captures of %s from %s to %s", self.history_source, where, since, until
            )
            return
        try:
            captures = parse_cdx(response.text, self.history_source, collection)
        except (ValueError, AttributeError) as error:
            self.discovery_error(response, f"not a CDX answer: {error}")
            return
        if not captures:
            self.logger.info(
                "%s: no captures of %s from %s to %s", self.history_source, where, since, until
            )
            return
        chosen = choose(captures, self.parser.identify)
        self.logger.info(
            "%s: %d captures of %s, %d articles", self.history_source, len(captures), prefix,
            len(chosen),
        )  # fmt: skip
        for ref, capture in chosen:
            request = await self.discovered(
                capture.original, None, self.history_source, queued_with=capture.as_data()
            )
            if request is not None:
                yield self.replay_request(request, ref, capture)
