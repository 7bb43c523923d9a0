"""The site spiders' base: Scrapy wiring, and parse-or-reject of every fetched page.

A page that does not become an article is never dropped: it is counted in the crawl stats
under its reason, logged with its URL, recorded in the archive state's outcome log, and
handed to the pipeline as a `RejectedItem` so the raw bytes are archived. A challenge page
may be fetched once more in Chromium (rendering). What to request is the plan (plan.py),
where the first requests come from the source (sources.py), what became of each URL the
ledger (ledger.py): collaborators the spider holds, not classes it is made of.

The spider never opens the archive: it asks `ArchiveState` (is this id archived, where did the
last run get to) and tells it what became of each URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.addon import (
    RENDER_CHALLENGES,
    SEED_SINK,
    check_render_setup,
    config_of,
    ensure_config,
)
from crawler.config import Config
from crawler.items import GENERIC, ArticleItem, FetchedPage, RejectedItem, RemovedItem
from crawler.meta import CAPTURE, FOLLOWED, REVISIT
from crawler.outcomes import LAYOUT_UNKNOWN, PARSED, outcome
from crawler.parsers import PARSERS, MovedTo, PageRejected, parse_with
from crawler.parsers.base import PageRef, SiteParser
from crawler.rendering import render_meta
from crawler.spiders.ledger import OutcomeLedger, about, failure_outcome, request_of
from crawler.spiders.pages import fetched_page, kept_of, removal
from crawler.spiders.plan import ArticleCallbacks, DiscoverySource, RequestPlan, RunArguments
from crawler.spiders.sources import ListingReader, ListingSource, RequestSource, UrlSource
from crawler.stats import Stat
from crawler.urls import rebase_url
from crawler.webarchive.options import SOURCES as WEB_ARCHIVES
from crawler.webarchive.source import CaptureSource
from pipelines.state import ArchiveState


class ArticleSpider(scrapy.Spider):
    """Base for the site spiders: Scrapy's wiring, and parse-or-reject of what was fetched.

    What the spider requests is its `plan` (plan.py), where the first requests come from its
    `source` (sources.py), what became of each URL its `ledger` (ledger.py): collaborators
    it holds, made on first use (Scrapy sets the crawler's stats only when the crawl
    starts). A site spider adds its `SOURCES`, its `discovery_requests()` and their
    callbacks, which read answers through `listing` and decide through `plan.discovered`.
    """

    site: ClassVar[str]
    # The site's discovery sources by name (each spider says which its settings turn on).
    SOURCES: ClassVar[dict[str, DiscoverySource]] = {}
    # CSS marking a Chromium-rendered page as loaded (the parser's); None: never rendered.
    ready_selector: ClassVar[str | None] = None
    config: Config
    state: ArchiveState
    allowed_domains: list[str]
    seed_sink: Any

    def __init__(
        self,
        url: str | None = None,
        urls_file: str | None = None,
        urls: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        full: str | bool = False,
        revisit_only: str | bool = False,
        from_archive: str | None = None,
        all_captures: str | bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.args = RunArguments.read(url, urls_file, urls, since, until, full, revisit_only)
        if from_archive and from_archive not in WEB_ARCHIVES:
            raise UsageError(f"from_archive: one of {', '.join(WEB_ARCHIVES)}, not {from_archive}")
        self.from_archive = from_archive or None  # discover from a web archive's captures
        self.all_captures = str(all_captures).lower() in ("1", "true", "yes")
        # Told of every outcome the ledger counts (frontier workers, chains of captures).
        self.outcome_listeners: list[Callable[[str, str | None], None]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "site", None) in PARSERS:
            cls.ready_selector = PARSERS[cls.site].ready_selector

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Load the config now if the runner handed none over (a plain `scrapy crawl`):
        Scrapy reports a bad setting cleanly (one line, exit 2) only at this point. The
        add-on (crawler/addon.py) applies it."""
        super().update_settings(settings)
        config = ensure_config(settings)
        if cls.ready_selector:
            check_render_setup(settings, config)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArticleSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = config_of(crawler)
        # Only the configured hosts (live site or mirror) may be fetched.
        spider.allowed_domains = sorted(
            {urlsplit(url).hostname or "" for url in spider.site_settings.base_urls().values()}
        )
        spider.state = ArchiveState.of(spider.config.archive)
        # `backfill --site --since`: discovery hands each listed article to the frontier's
        # seeder instead of fetching it (crawler/runs/seeding.py).
        spider.seed_sink = crawler.settings.get(SEED_SINK)
        if spider.from_archive:  # the web archive at its polite rate, however the run started
            slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
            polite = spider.config.history.download_slots(spider.from_archive)
            crawler.settings.set("DOWNLOAD_SLOTS", {**slots, **polite}, priority="spider")
        return spider

    @cached_property
    def ledger(self) -> OutcomeLedger:
        return OutcomeLedger(
            self.crawler.stats, self.state, self.site, self.logger, self.outcome_listeners
        )

    @cached_property
    def plan(self) -> RequestPlan:
        return RequestPlan(
            self.site,
            self.args,
            parser=self.parser,
            state=self.state,
            stats=self.crawler.stats,
            ledger=self.ledger,
            logger=self.logger,
            revisit=self.config.revisit,
            retry=self.config.retry,
            base_url=self.base_url,
            allowed_domains=self.allowed_domains,
            callbacks=ArticleCallbacks(self.parse_article, self.fetch_failed),
            url_limit=self.settings.getint("URLLENGTH_LIMIT"),
            seed_sink=self.seed_sink,
        )

    @cached_property
    def listing(self) -> ListingReader:
        return ListingReader(self.crawler.stats, self.logger)

    @cached_property
    def source(self) -> RequestSource:
        """Where this run's first requests come from, chosen once by what it asked for."""
        if self.args.requested_urls:
            return UrlSource(self.plan)
        if self.from_archive:
            return CaptureSource(
                self.from_archive,
                site=self.site,
                plan=self.plan,
                listing=self.listing,
                parser=self.parser,
                history=self.config.history,
                state=self.state,
                crawler=self.crawler,
                logger=self.logger,
                every_capture=self.all_captures,
                outcome_listeners=self.outcome_listeners,
            )
        return ListingSource(self.plan, self.state, self.discovery_requests, self.active_sources)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        async for request in self.source.start():
            yield request

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        """The first listing requests of the site (sitemaps, APIs); a site that lists
        nothing runs on URLs only."""
        return []

    def active_sources(self) -> list[DiscoverySource]:
        """The discovery sources this run's settings turn on (a site spider may say)."""
        return list(self.SOURCES.values())

    @property
    def parser(self) -> SiteParser:
        return PARSERS[self.site]

    @property
    def site_settings(self) -> Any:
        """This site's `[sites.<name>]` settings (its settings class in crawler/sites.py)."""
        return self.config.site(self.site)

    @property
    def base_url(self) -> str:
        return str(self.site_settings.base_url)

    def endpoint(self, setting: str, path: str) -> str:
        """A listing URL: the configured base for `setting` plus the real path."""
        return str(getattr(self.site_settings, setting)).rstrip("/") + path

    @property
    def renders_challenges(self) -> bool:
        return self.settings.getbool(RENDER_CHALLENGES) and bool(self.ready_selector)

    def closed(self, reason: str) -> None:
        """Publish this run's fetch outcomes; store a finished discovery run's high-water
        mark for the next one (an interrupted run stores none: the next run starts where
        the last finished one did)."""
        self.crawler.stats.set_value(Stat.CLOSE_REASON, reason)
        try:
            self.state.flush()
        except Exception as error:  # kept in the local journal; the next run publishes it
            self.logger.error("fetch outcomes not published yet: %s", error)
        self.plan.store_high_water(reason)

    def parse_article(
        self,
        response: Response,
        ref: PageRef,
        source_url: str,
        challenge: tuple[FetchedPage, PageRejected] | None = None,
        unindexed: bool = False,
    ) -> Iterable[ArticleItem | RejectedItem | RemovedItem | scrapy.Request]:
        """Parse with the site parser; anything that is not an article becomes a RejectedItem.

        `challenge` is set on the rendered retry of a challenge page (kept for render_failed).
        """
        stats = self.crawler.stats
        rendered = bool(response.meta.get("playwright"))
        if not rendered:  # the rendered fetch of a challenge page is the same page
            stats.inc_value(Stat.FETCHED)
        page = fetched_page(self.site, response, ref, source_url, rendered)
        if rendered:
            stats.inc_value(Stat.RENDERED)
        revisit = response.meta.get(REVISIT)
        if revisit and response.status == 304:
            stats.inc_value(Stat.REVISIT_UNCHANGED)
            self.account("not_modified", page.url, ref.id, "HTTP 304", kept_of(page, response))
            return
        if not response.body.strip():
            self.account("empty_page", page.url, ref.id, f"HTTP {response.status}, no body")
            self.logger.warning("empty page: %s", response.url, extra=about(page.url, "empty_page"))
            return
        try:
            article = parse_with(self.parser, ref.url, response.body, page.headers)
        except MovedTo as moved:
            follow = self._follow_interstitial(response, moved)
            if follow is not None:
                yield follow
                return
            self.account("parse_error", page.url, ref.id, f"redirect page loop: {moved}")
            yield RejectedItem(page=page, reason="parse_error", detail=str(moved))
            return
        except PageRejected as rejected:
            if rejected.reason == "blocked" and self.renders_challenges and not rendered:
                yield self._render_request(response, ref, source_url, page, rejected)
                return
            gone = removal(rejected, response)
            if revisit and gone:
                yield self._removed(page, gone, revisit)
                return
            self.account(rejected.reason, page.url, ref.id, str(rejected))
            log = self.logger.info if rejected.reason == "not_article" else self.logger.warning
            log("%s: %s", rejected.reason, rejected, extra=about(page.url, rejected.reason))
            yield RejectedItem(
                page=page,
                reason=rejected.reason,
                detail=rejected.detail,
                field=getattr(rejected, "field", None),
                kind=getattr(rejected, "kind", None),
            )
            return
        except Exception as error:  # a parser bug must not lose the page: keep it raw
            detail = f"parser crashed: {type(error).__name__}: {error}"
            self.account("parse_error", page.url, ref.id, detail)
            self.logger.error(
                "parse error: %s: %s", response.url, detail, extra=about(page.url, "parse_error")
            )
            yield RejectedItem(page=page, reason="parse_error", detail=detail)
            return
        kept = kept_of(page, response, article.published)
        if article.extraction == GENERIC:  # archived, and a problem: no layout knows the page
            detail = f"no known layout (tried {article.layout_tried}): archived generic text"
            self.account(LAYOUT_UNKNOWN, page.url, ref.id, detail, extra=kept)
            self.logger.warning(
                "%s: %s", LAYOUT_UNKNOWN, detail, extra=about(page.url, LAYOUT_UNKNOWN)
            )
        else:
            self.account(PARSED, page.url, ref.id, extra=kept)
        yield ArticleItem(page=page, article=article, unindexed=unindexed, revisit=revisit)

    def _removed(self, page: FetchedPage, detail: str, revisit: dict[str, Any]) -> RemovedItem:
        extra = {"revisit": True, "start": revisit["start"]}
        self.account("removed", page.url, page.page_id, detail, extra)
        self.logger.warning("removed: %s (%s)", page.url, detail, extra=about(page.url, "removed"))
        return RemovedItem(page=page, detail=detail, revisit=revisit)

    def _follow_interstitial(self, response: Response, moved: MovedTo) -> scrapy.Request | None:
        """The article a redirect page points to, fetched once in its place (same id, same
        outcome accounting); None for a second interstitial or a target off the site."""
        request = response.request
        target = self.parser.identify(moved.target)
        if request is None or request.meta.get(FOLLOWED) or target is None:
            return None
        self.logger.info("%s is a redirect page: following it to %s", response.url, target.url)
        return request.replace(
            url=rebase_url(self.base_url, target.url),
            meta={**request.meta, FOLLOWED: True},
            dont_filter=True,
        )

    def _render_request(
        self,
        response: Response,
        ref: PageRef,
        source_url: str,
        challenge: FetchedPage,
        rejected: PageRejected,
    ) -> scrapy.Request:
        """The same page once more, through Chromium: only challenge pages take this path."""
        self.logger.info("challenge at %s: rendering it in Chromium", response.url)
        request = response.request
        assert request is not None  # a response Scrapy hands a callback has its request
        return request.replace(
            meta={
                **render_meta(self.ready_selector or "body", self.config.crawl.render_timeout),
                CAPTURE: request.meta.get(CAPTURE),  # the rendering refers to this capture
            },
            errback=self.render_failed,
            cb_kwargs={**request.cb_kwargs, "challenge": (challenge, rejected)},
            dont_filter=True,
        )

    def render_failed(self, failure: Failure) -> Iterable[RejectedItem]:
        """Chromium could not get past the challenge: the original page is kept as blocked."""
        page, rejected = request_of(failure).cb_kwargs["challenge"]
        # Playwright's message goes on with its call log: the first line says why.
        why = failure.getErrorMessage().strip().splitlines()[0]
        self.account("blocked", page.url, page.page_id, f"rendering failed: {why}")
        self.logger.warning(
            "blocked: %s (rendering failed: %s)",
            page.fetched_url,
            why,
            extra=about(page.url, "blocked"),
        )
        yield RejectedItem(
            page=page, reason="blocked", detail=f"{rejected.detail}; rendering failed: {why}"
        )

    def fetch_failed(self, failure: Failure) -> Iterable[RejectedItem | RemovedItem]:
        """Count and log a request that failed after Scrapy's retries, under its cause; an
        answer that says the page is gone or elsewhere is kept raw as evidence."""
        request = request_of(failure)
        ref = request.cb_kwargs.get("ref")
        url = ref.url if ref is not None else request.url
        name, response = failure_outcome(failure)
        message = failure.getErrorMessage()
        revisit = request.meta.get(REVISIT)
        if revisit and name == "gone" and response is not None and ref is not None:
            page = fetched_page(self.site, response, ref, request.cb_kwargs["source_url"])
            yield self._removed(page, f"HTTP {response.status}", revisit)
            return
        extra = {"revisit": True, "start": revisit["start"]} if revisit else None
        self.account(name, url, ref.id if ref else None, message, extra)
        log = self.logger.info if not outcome(name).failure else self.logger.error
        log("%s: %s (%s)", name.replace("_", " "), request.url, message, extra=about(url, name))
        if response is not None and ref is not None and not outcome(name).retried:
            yield RejectedItem(
                page=fetched_page(self.site, response, ref, request.cb_kwargs["source_url"]),
                reason=name,
                detail=message,
            )

    def account(
        self,
        name: str,
        url: str,
        page_id: str | None,
        detail: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        """What became of one requested URL, said once (the ledger, and its listeners)."""
        self.ledger.account(name, url, page_id, detail, extra)
