"""Shared spider behaviour: manual URL runs, discovery decisions, parse-or-reject.

A page that does not become an article is never dropped: it is counted in the crawl stats
under its reason, logged with its URL, recorded in the archive state's outcome log, and
handed to the pipeline as a `RejectedItem` so the raw bytes are archived.

The spider never opens the archive: it asks `ArchiveState` (is this id archived, where did the
last run get to) and tells it what became of each URL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest, UsageError
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import run_in_thread
from twisted.internet.error import TCPTimedOutError
from twisted.internet.error import TimeoutError as ConnectTimeout
from twisted.python.failure import Failure

from crawler.addon import RENDER_CHALLENGES, check_render_setup, config_of, ensure_config
from crawler.backfill.frontier import SEED_SINK
from crawler.config import Config
from crawler.items import (
    BEIJING,
    ArticleItem,
    FetchedPage,
    RejectedItem,
    RemovedItem,
    beijing_midnight,
    parse_day,
)
from crawler.middlewares.capture import CAPTURE, CAPTURE_OF_ID, PREVIOUS_CAPTURE, capture_of
from crawler.middlewares.offsite import OffsiteRedirect
from crawler.outcomes import GAVE_UP, OUTCOMES, PARSED, http_outcome, ignored_outcome, outcome
from crawler.parsers import PARSERS, MovedTo, PageRejected
from crawler.parsers.base import PageRef, SiteParser
from crawler.rendering import render_meta
from crawler.spiders.sitemaps import MAX_DEPTH, ReadSitemap, read_sitemap
from crawler.stats import MAX_LISTED_FAILURES, Stat
from crawler.urls import read_urls_file, rebase_url
from pipelines.state import ArchiveState, RetryDue, RetryPolicy

# A new run re-reads this much before the last high-water mark: late-listed items are caught,
# and the per-id index keeps them from being fetched twice.
HIGH_WATER_OVERLAP = timedelta(hours=1)
FOLLOWED = "newsarchive_followed_interstitial"  # request meta: a redirect page was followed
REVISIT = "newsarchive_revisit"  # request meta: a revisit, {"start": ISO time, "removed": bool}


@dataclass(frozen=True)
class DiscoverySource:
    """One way a site lists its articles, and how far back it reaches: the source owns its
    date range, and a run (or a backfill) asking for older articles is told so."""

    name: str
    reach: timedelta | None  # how far back it lists; None: its whole history
    covers: str  # what it lists, for people

    def reaches(self, since: datetime, now: datetime) -> bool:
        return self.reach is None or since >= now - self.reach


class ArticleSpider(scrapy.Spider):
    """Base for the site spiders.

    Manual runs: `-a url=URL` or `-a urls_file=FILE` (always fetched). Discovery runs (no URL):
    the site's listings, down to `-a since=YYYY-MM-DD` (default: the last run's high-water
    mark) and up to `-a until=YYYY-MM-DD` (a past range: no high-water mark is stored), skipping
    ids already in the archive unless `-a full=1`.
    """

    site: ClassVar[str]
    # The site's discovery sources by name, and the ones this run's settings turn on.
    SOURCES: ClassVar[dict[str, DiscoverySource]] = {}
    # CSS marking a Chromium-rendered page as loaded (the parser's); None: never rendered.
    ready_selector: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "site", None) in PARSERS:
            cls.ready_selector = PARSERS[cls.site].ready_selector

    def __init__(
        self,
        url: str | None = None,
        urls_file: str | None = None,
        urls: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        full: str | bool = False,
        revisit_only: str | bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        try:
            self.requested_urls = _requested_urls(url, urls_file) + list(urls or [])
            self.since = beijing_midnight(parse_day(since)) if since else None
            # The end of the `until` day (Beijing): a past range, as a backfill asks for.
            self.until = beijing_midnight(parse_day(until)) + timedelta(days=1) if until else None
        except ValueError as error:
            raise UsageError(str(error)) from None
        self.since_asked = since is not None  # `--since` given, not the last run's mark
        self.full = str(full).lower() in ("1", "true", "yes")
        self.revisit_only = str(revisit_only).lower() in ("1", "true", "yes")
        self.high_water: datetime | None = None
        self.requested_ids: set[str] = set()  # one request per article per run

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
        # seeder instead of fetching it (crawler/commands/backfill.py).
        spider.seed_sink = crawler.settings.get(SEED_SINK)
        return spider

    config: Config
    state: ArchiveState
    allowed_domains: list[str]
    seed_sink: Any

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

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.requested_urls:
            for url in self.requested_urls:
                request = self.article_request(url)
                if request is not None:
                    yield request
            return
        await run_in_thread(self.state.flush)  # outcomes a killed run journaled
        if self.seed_sink is not None:  # only the listings: no revisits, no retries
            if self.since is not None:
                self.warn_beyond_reach(self.since)
            for request in self.discovery_requests():
                yield request
            return
        for request in await run_in_thread(self.revisit_requests):
            yield request
        if self.revisit_only:
            return
        for request in await run_in_thread(self.retry_requests):
            yield request
        if self.since is None and not self.full:
            self.since = await run_in_thread(self._last_high_water)
        if self.since is not None:
            self.logger.info("discovering %s articles published since %s", self.site, self.since)
        if self.since is not None and self.since_asked:
            self.warn_beyond_reach(self.since)
        for request in self.discovery_requests():
            yield request

    def active_sources(self) -> list[DiscoverySource]:
        """The sources this run's settings turn on (each spider says how)."""
        return list(self.SOURCES.values())

    def warn_beyond_reach(self, since: datetime) -> None:
        """Say it when no active source lists articles as old as `since`."""
        now = datetime.now(UTC)
        sources = self.active_sources()
        if sources and not any(source.reaches(since, now) for source in sources):
            reach = "; ".join(f"{s.name}: {s.covers}" for s in sources)
            self.logger.warning(
                "%s: no discovery source reaches back to %s (%s); older articles need a URL "
                "list (crawl --urls-file)", self.site, since.date(), reach,
            )  # fmt: skip
            self.crawler.stats.set_value(Stat.BEYOND_REACH, 1)

    def revisit_requests(self) -> list[scrapy.Request]:
        """Archived articles owed a revisit now (`[revisit]`), as conditional requests."""
        policy = self.config.revisit.policy(self.config.retry.lookback_days)
        if not policy.ages:
            return []
        try:
            owed = self.state.revisits_due(self.site, policy)
        except Exception as error:  # the archive is down: the next run revisits them
            self.logger.error("revisit schedule not readable, no revisits this run: %s", error)
            return []
        if owed:
            self.logger.info("%s: revisiting %d archived articles", self.site, len(owed))
        requests = []
        for due in owed:
            ref = self.parser.identify(due.url)
            request = self._request_for(ref, due.url) if ref else None
            if request is None:
                continue
            self.crawler.stats.inc_value(Stat.REVISITED)
            headers = {}
            # Conditional, unless it was last seen gone: a page that is back is stored again.
            if due.etag and not due.removed:
                headers["If-None-Match"] = due.etag
            if due.last_modified and not due.removed:
                headers["If-Modified-Since"] = due.last_modified
            meta = {
                **request.meta,
                REVISIT: {"start": due.start.isoformat(), "removed": due.removed},
                "handle_httpstatus_list": [304],
            }
            if due.capture:
                meta[PREVIOUS_CAPTURE] = due.capture  # an identical payload: a revisit record
            requests.append(request.replace(headers=headers, meta=meta, dont_filter=True))
        return requests

    def retry_requests(self) -> list[scrapy.Request]:
        """Pages earlier runs failed on and may fetch again now (the retry ledger), whatever
        the high-water mark says; those out of attempts are recorded as given up."""
        retry = self.config.retry
        policy = RetryPolicy(
            retry.max_attempts,
            retry.backoff_minutes,
            retry.lookback_days,
            frozenset(name for name, entry in OUTCOMES.items() if entry.retried),
        )
        try:
            ledger = self.state.retry_ledger(self.site, policy)
        except Exception as error:  # the archive is down: the next run retries them
            self.logger.error("retry ledger not readable, no retries this run: %s", error)
            return []
        for given_up in ledger.exhausted:
            self.give_up(given_up)
        if ledger.due or ledger.waiting:
            self.logger.info(
                "%s: retrying %d failed pages now, %d later",
                self.site, len(ledger.due), len(ledger.waiting),
            )  # fmt: skip
        requests = []
        for due in ledger.due:
            ref = self.parser.identify(due.url)
            request = self._request_for(ref, due.url, retry=True) if ref else None
            if request is not None:
                requests.append(request)
        return requests

    def give_up(self, due: RetryDue) -> None:
        when = f"{due.last_at:%Y-%m-%d %H:%M}Z"
        detail = f"{due.attempts} attempts, the last {due.last_outcome} at {when}"
        self.crawler.stats.inc_value(Stat.GAVE_UP)
        self.state.record_outcome(self.site, due.url, GAVE_UP, due.page_id, detail)
        self.note_failure(GAVE_UP, due.url, detail)
        self.logger.warning("gave up on %s: %s", due.url, detail)

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        """The first listing requests of the site (sitemaps, APIs)."""
        raise NotImplementedError

    def article_request(self, url: str) -> scrapy.Request | None:
        """A request for one article URL of this site, fetched through the configured base."""
        ref = self.parser.identify(url)
        if ref is None:
            self.crawler.stats.inc_value(Stat.UNSUPPORTED_URL)
            self.logger.error("Not a %s article URL, skipped: %s", self.site, url)
            return None
        return self._request_for(ref, url)

    @property
    def renders_challenges(self) -> bool:
        return self.settings.getbool(RENDER_CHALLENGES) and bool(self.ready_selector)

    def _request_for(
        self, ref: PageRef, source_url: str, unindexed: bool = False, retry: bool = False
    ) -> scrapy.Request | None:
        """The one request of this run for an article (None: already requested, or filtered
        here with its outcome counted). Every URL counted as requested ends in one outcome."""
        if ref.id in self.requested_ids:
            return None
        self.requested_ids.add(ref.id)
        stats = self.crawler.stats
        stats.inc_value(Stat.REQUESTED)
        if retry:
            stats.inc_value(Stat.RETRIED)
        url = rebase_url(self.base_url, ref.url)
        host = urlsplit(url).hostname or ""
        if host and host not in self.allowed_domains:
            # Another host of this site (an identified article URL on tech.qq.com, say):
            # Scrapy's offsite filter re-reads allowed_domains when it changes.
            self.allowed_domains.append(host)
        limit = self.settings.getint("URLLENGTH_LIMIT")
        if limit and len(url) > limit:
            self.account("url_too_long", ref.url, ref.id, f"{len(url)} characters")
            return None
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.fetch_failed,
            cb_kwargs={"ref": ref, "source_url": source_url, "unindexed": unindexed},
            # An id that may be archived: its capture is looked up, so that an unchanged page
            # is written as a WARC revisit record rather than a second copy.
            meta={} if unindexed else {CAPTURE_OF_ID: ref.id},
        )

    async def discovered(
        self, url: str, published: datetime | None, listing: str
    ) -> scrapy.Request | None:
        """Decide what to do with one listed article: too old, off-site, archived, or fetch."""
        stats = self.crawler.stats
        stats.inc_value(Stat.DISCOVERED)
        if published is not None:
            if self.high_water is None or published > self.high_water:
                self.high_water = published
            if self.since is not None and published < self.since:
                stats.inc_value(Stat.TOO_OLD)
                return None
            if self.until is not None and published >= self.until:
                stats.inc_value(Stat.TOO_NEW)
                return None
        ref = self.parser.identify(url)
        if ref is None:
            stats.inc_value(Stat.OFFSITE_REFUSED)
            self.logger.warning("listing %s points off-site, not fetched: %s", listing, url)
            return None
        if ref.id in self.requested_ids:
            return None  # listed twice (several listings, or a retry of it this run)
        if self.seed_sink is not None:
            self.requested_ids.add(ref.id)
            await run_in_thread(self.seed_sink.add, self.site, ref.id, ref.url)
            return None
        looked_up = not self.full
        if looked_up:
            archived = await run_in_thread(self.state.archived_or_unknown, self.site, ref.id)
            if archived is None:
                self.logger.warning("archive cannot say if %s is archived: fetching it", url)
                looked_up = False
            if archived:
                stats.inc_value(Stat.ALREADY_ARCHIVED)
                return None
        return self._request_for(ref, url, unindexed=looked_up)

    def discovery_error(self, response: Response, why: str) -> None:
        """A listing that changed shape: counted and logged, never taken for 'no news'."""
        self.crawler.stats.inc_value(Stat.DISCOVERY_ERRORS)
        self.logger.error("discovery broken at %s: %s", response.url, why)

    def sitemap_of(self, response: Response, depth: int) -> ReadSitemap | None:
        """The sitemap in a listing response, or None with the discovery error said: not a
        sitemap, an index listing nothing, or indexes nested deeper than MAX_DEPTH."""
        sitemap = read_sitemap(response)
        if sitemap is None:
            self.discovery_error(response, "not a sitemap (index or urlset)")
        elif sitemap.kind == "sitemapindex" and not sitemap.entries:
            self.discovery_error(response, "sitemap index lists no sitemaps")
        elif sitemap.kind == "sitemapindex" and depth >= MAX_DEPTH:
            self.discovery_error(response, f"sitemap indexes nested deeper than {MAX_DEPTH}")
        else:
            return sitemap
        return None

    def listing_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value(Stat.DISCOVERY_ERRORS)
        self.logger.error(
            "discovery broken at %s: %s", _request_of(failure).url, failure.getErrorMessage()
        )

    def json_of(self, response: Response) -> Any:
        """A listing's JSON, or None (counted as a discovery error) if it is not JSON."""
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError):
            start = response.body[:60]
            self.discovery_error(response, f"expected JSON, got {start!r}")
            return None

    def closed(self, reason: str) -> None:
        """Publish this run's fetch outcomes; store a finished discovery run's high-water
        mark for the next one (an interrupted run stores none: the next run starts where
        the last finished one did)."""
        self.crawler.stats.set_value(Stat.CLOSE_REASON, reason)
        try:
            self.state.flush()
        except Exception as error:  # kept in the local journal; the next run publishes it
            self.logger.error("fetch outcomes not published yet: %s", error)
        errors = self.crawler.stats.get_value(Stat.DISCOVERY_ERRORS, 0)
        # A past range (`until`) is not where the nightly runs got to: no mark from it.
        past_range = self.until is not None or self.seed_sink is not None
        if self.requested_urls or reason != "finished" or errors or self.high_water is None:
            return
        if past_range:
            return
        try:
            self.state.record_run(self.site, self.high_water, datetime.now(UTC))
        except Exception as error:  # the next run re-reads from the previous mark
            self.logger.error("high-water mark not stored: %s", error)

    def _last_high_water(self) -> datetime | None:
        try:
            mark = self.state.last_high_water(self.site)
        except Exception as error:  # the archive is down: read every listing page this time
            self.logger.error("high-water mark not readable, reading all listings: %s", error)
            return None
        return mark - HIGH_WATER_OVERLAP if mark else None

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
        page = self._page(response, ref, source_url, rendered)
        if rendered:
            stats.inc_value(Stat.RENDERED)
        revisit = response.meta.get(REVISIT)
        if revisit and response.status == 304:
            stats.inc_value(Stat.REVISIT_UNCHANGED)
            self.account("not_modified", page.url, ref.id, "HTTP 304", self._kept(page, response))
            return
        if not response.body.strip():
            self.account("empty_page", page.url, ref.id, f"HTTP {response.status}, no body")
            self.logger.warning("empty page: %s", response.url)
            return
        try:
            article = self.parser.parse(ref.url, response.body, page.headers)
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
            gone = _removal(rejected, response)
            if revisit and gone:
                yield self._removed(page, gone, revisit)
                return
            self.account(rejected.reason, page.url, ref.id, str(rejected))
            log = self.logger.info if rejected.reason == "not_article" else self.logger.warning
            log("%s: %s", rejected.reason, rejected)
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
            self.logger.error("parse error: %s: %s", response.url, detail)
            yield RejectedItem(page=page, reason="parse_error", detail=detail)
            return
        kept = self._kept(page, response, article.published)
        self.account(PARSED, page.url, ref.id, extra=kept)
        yield ArticleItem(page=page, article=article, unindexed=unindexed, revisit=revisit)

    def _kept(
        self, page: FetchedPage, response: Response, published: datetime | None = None
    ) -> dict[str, Any]:
        """What the outcome log keeps of a successful fetch for later revisits: publication
        time, validators, the capture an identical payload would be a revisit of, and on a
        revisit the schedule it is on."""
        previous = response.meta.get(PREVIOUS_CAPTURE)
        capture = page.capture
        if capture is None or capture.get("record_type") != "response":
            capture = previous  # a revisit record or a 304: the original stays the reference
        headers = {k.lower(): v for k, v in page.headers.items()}
        kept: dict[str, Any] = {
            "published": published.isoformat() if published else None,
            "etag": headers.get("etag"),
            "last_modified": headers.get("last-modified"),
            "capture": capture,
        }
        revisit = response.meta.get(REVISIT)
        if revisit:
            kept.update(revisit=True, start=revisit["start"])
        return {k: v for k, v in kept.items() if v}

    def _removed(self, page: FetchedPage, detail: str, revisit: dict[str, Any]) -> RemovedItem:
        extra = {"revisit": True, "start": revisit["start"]}
        self.account("removed", page.url, page.page_id, detail, extra)
        self.logger.warning("removed: %s (%s)", page.url, detail)
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

    def _page(
        self, response: Response, ref: PageRef, source_url: str, rendered: bool = False
    ) -> FetchedPage:
        """The response as the archive keeps it (raw body, headers, where it came from)."""
        return FetchedPage(
            site=self.site,
            page_id=ref.id,
            url=ref.url,
            source_url=source_url,
            fetched_url=response.url,
            status=response.status,
            headers=_headers(response),
            body=response.body,
            fetched_at=datetime.now(UTC),
            rendered_by="chromium" if rendered else None,
            capture=capture_of(response),
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
        page, rejected = _request_of(failure).cb_kwargs["challenge"]
        self.account(
            "blocked", page.url, page.page_id, f"rendering failed: {failure.getErrorMessage()}"
        )
        self.logger.warning(
            "blocked: %s (rendering failed: %s)", page.fetched_url, failure.getErrorMessage()
        )
        yield RejectedItem(
            page=page,
            reason="blocked",
            detail=f"{rejected.detail}; rendering failed: {failure.getErrorMessage()}",
        )

    def fetch_failed(self, failure: Failure) -> Iterable[RejectedItem | RemovedItem]:
        """Count and log a request that failed after Scrapy's retries, under its cause; an
        answer that says the page is gone or elsewhere is kept raw as evidence."""
        request = _request_of(failure)
        ref = request.cb_kwargs.get("ref")
        url = ref.url if ref is not None else request.url
        name, response = failure_outcome(failure)
        message = failure.getErrorMessage()
        revisit = request.meta.get(REVISIT)
        if revisit and name == "gone" and response is not None and ref is not None:
            page = self._page(response, ref, request.cb_kwargs["source_url"])
            yield self._removed(page, f"HTTP {response.status}", revisit)
            return
        extra = {"revisit": True, "start": revisit["start"]} if revisit else None
        self.account(name, url, ref.id if ref else None, message, extra)
        log = self.logger.info if not outcome(name).failure else self.logger.error
        log("%s: %s (%s)", name.replace("_", " "), request.url, message)
        if response is not None and ref is not None and not outcome(name).retried:
            yield RejectedItem(
                page=self._page(response, ref, request.cb_kwargs["source_url"]),
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
        """What became of one requested URL, in the one place that says so: its outcome's
        counter, the archive state's outcome log (with `extra`, the revisit bookkeeping),
        and (for a failure) the run report's list. A log that cannot be written is
        reported, never allowed to lose the page's item."""
        entry = outcome(name)
        self.crawler.stats.inc_value(Stat.of_outcome(entry.name))
        try:
            self.state.record_outcome(self.site, url, entry.name, page_id, detail, extra=extra)
        except OSError as error:
            self.logger.error("outcome of %s not recorded: %s", url, error)
        if entry.failure or entry.kind == "filtered":
            self.note_failure(entry.name, url, detail)

    def note_failure(self, reason: str, url: str, detail: str) -> None:
        """Remember a failed page's URL for the run report (the first few hundred)."""
        failures = self.crawler.stats.get_value(Stat.FAILURE_LIST)
        if failures is None:
            failures = []
            self.crawler.stats.set_value(Stat.FAILURE_LIST, failures)
        if len(failures) < MAX_LISTED_FAILURES:
            failures.append({"reason": reason, "url": url, "detail": detail[:300]})


def failure_outcome(failure: Failure) -> tuple[str, Response | None]:
    """The outcome name of a failed request (crawler/outcomes.py), and the response if the
    failure carries one."""
    error = failure.value
    if isinstance(error, HttpError):
        return http_outcome(error.response.status), error.response
    if isinstance(error, OffsiteRedirect):
        return "offsite_redirect", error.response
    if failure.check(IgnoreRequest):
        return ignored_outcome(failure.getErrorMessage()), None
    if failure.check(DownloadTimeoutError, ConnectTimeout, TCPTimedOutError):
        return "timeout", None
    return "connection_error", None


def epoch_time(value: object) -> datetime | None:
    """A listing's epoch seconds (an int, or a string of one) as Beijing time; None if not."""
    if not isinstance(value, (int, str)) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC).astimezone(BEIJING)
    except (ValueError, OverflowError):
        return None


def _removal(rejected: PageRejected, response: Response) -> str | None:
    """How a revisited page shows the article is gone, or None: the site's deleted page, or
    a redirect to a page that is no article (its home or a channel page). A challenge page
    is never a removal."""
    if rejected.reason == "removed":
        return rejected.detail
    redirected = response.meta.get("redirect_urls")
    if redirected and rejected.reason != "blocked":
        return f"redirected to {response.url}, which is no article ({rejected.reason})"
    return None


def _request_of(failure: Failure) -> scrapy.Request:
    """The request an errback's failure is about (Scrapy sets it; Twisted's type lacks it)."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


def _requested_urls(url: str | None, urls_file: str | None) -> list[str]:
    return ([url] if url else []) + (read_urls_file(urls_file) if urls_file else [])


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
