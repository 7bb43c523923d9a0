"""Where a spider's requests come from: discovery sources of one kind.

A source is what `ArticleSpider.start()` asks for its first requests; the spider holds one,
chosen once by what the run asked for (crawler/spiders/base.py `choose_source`):

- `UrlSource`: the URLs a manual run names (`-a url=`, `urls_file=`);
- `ListingSource`: the site's own listings, after the revisits and retries that are due;
- `CaptureSource` (crawler/webarchive/source.py): a web archive's captures;
- a frontier worker's claims (crawler/frontier/workers.py), where scrapy-redis wants its
  mixin on the spider class.

Each decides what to fetch through the spider's `RequestPlan`. `ListingReader` is what the
sites' listing callbacks share: a listing that changed shape is a counted discovery error,
never "no news".
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from logging import Logger, LoggerAdapter
from typing import Any, Protocol

import scrapy
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from crawler.spiders.ledger import request_of
from crawler.spiders.plan import DiscoverySource, RequestPlan
from crawler.spiders.sitemaps import MAX_DEPTH, ReadSitemap, read_sitemap
from crawler.stats import Stat
from pipelines.state import ArchiveState


class RequestSource(Protocol):
    """The first requests of a crawl (later ones come from the callbacks of these)."""

    def start(self) -> AsyncIterator[scrapy.Request]: ...


class UrlSource:
    """A manual run: the URLs it names, each fetched whatever the archive holds."""

    def __init__(self, plan: RequestPlan) -> None:
        self.plan = plan

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.plan.args.requested_urls:
            request = self.plan.article_request(url)
            if request is not None:
                yield request


class ListingSource:
    """The site's own listings (its spider's `discovery_requests`), after the revisits owed
    and the retries due; seeding the frontier, the listings alone."""

    def __init__(
        self,
        plan: RequestPlan,
        state: ArchiveState,
        listings: Callable[[], Iterable[scrapy.Request]],
        active: Callable[[], list[DiscoverySource]],
    ) -> None:
        self.plan, self.state, self.listings, self.active = plan, state, listings, active

    async def start(self) -> AsyncIterator[scrapy.Request]:
        plan = self.plan
        await run_in_thread(self.state.flush)  # outcomes a killed run journaled
        if plan.seeding:  # only the listings: no revisits, no retries
            if plan.since is not None:
                plan.warn_beyond_reach(plan.since, self.active())
            for request in self.listings():
                yield request
            return
        for request in await run_in_thread(plan.revisit_requests):
            yield request
        if plan.args.revisit_only:
            return
        for request in await run_in_thread(plan.retry_requests):
            yield request
        await run_in_thread(plan.start_from_high_water)
        if plan.since is not None and plan.args.since_asked:
            plan.warn_beyond_reach(plan.since, self.active())
        for request in self.listings():
            yield request


class ListingReader:
    """Reading a listing answer, or saying why it could not be read (counted, logged)."""

    def __init__(self, stats: StatsCollector, logger: Logger | LoggerAdapter[Any]) -> None:
        self.stats, self.logger = stats, logger

    def error(self, response: Response, why: str) -> None:
        """A listing that changed shape: counted and logged, never taken for 'no news'."""
        self.stats.inc_value(Stat.DISCOVERY_ERRORS)
        self.logger.error("discovery broken at %s: %s", response.url, why)

    def failed(self, failure: Failure) -> None:
        """The errback of listing requests: a listing that could not be fetched."""
        self.stats.inc_value(Stat.DISCOVERY_ERRORS)
        self.logger.error(
            "discovery broken at %s: %s", request_of(failure).url, failure.getErrorMessage()
        )

    def json(self, response: Response) -> Any:
        """A listing's JSON, or None (counted as a discovery error) if it is not JSON."""
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError):
            self.error(response, f"expected JSON, got {response.body[:60]!r}")
            return None

    def sitemap(self, response: Response, depth: int) -> ReadSitemap | None:
        """The sitemap in a listing response, or None with the discovery error said: not a
        sitemap, an index listing nothing, or indexes nested deeper than MAX_DEPTH."""
        sitemap = read_sitemap(response)
        if sitemap is None:
            self.error(response, "not a sitemap (index or urlset)")
        elif sitemap.kind == "sitemapindex" and not sitemap.entries:
            self.error(response, "sitemap index lists no sitemaps")
        elif sitemap.kind == "sitemapindex" and depth >= MAX_DEPTH:
            self.error(response, f"sitemap indexes nested deeper than {MAX_DEPTH}")
        else:
            return sitemap
        return None
