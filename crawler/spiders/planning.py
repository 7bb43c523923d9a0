"""What a spider requests, and why: manual URLs, revisits, retries, discovery decisions.

The run's arguments (`-a url=`, `urls_file=`, `since=`, `until=`, `full=`, `revisit_only=`)
become requests here, each article at most once per run: revisits owed by the `[revisit]`
schedule, failed pages the retry ledger says are due, then what the site's listings show
that is new since the last run's high-water mark. The listing helpers (JSON, sitemaps, a
listing that changed shape) live here too. What a fetched page becomes is crawler/spiders/
base.py; what became of each URL is ledger.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import UsageError
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from crawler.config import Config
from crawler.items import (
    BEIJING,
    beijing_midnight,
    parse_day,
)
from crawler.meta import CAPTURE_OF_ID, PREVIOUS_CAPTURE, REVISIT
from crawler.outcomes import ARCHIVING, OUTCOMES
from crawler.parsers import PARSERS
from crawler.parsers.base import PageRef, SiteParser
from crawler.spiders.ledger import OutcomeLedger, request_of
from crawler.spiders.sitemaps import MAX_DEPTH, ReadSitemap, read_sitemap
from crawler.stats import Stat
from crawler.urls import read_urls_file, rebase_url
from pipelines.state import ArchiveState, RetryPolicy

# A new run re-reads this much before the last high-water mark: late-listed items are caught,
# and the per-id index keeps them from being fetched twice.
HIGH_WATER_OVERLAP = timedelta(hours=1)


@dataclass(frozen=True)
class DiscoverySource:
    """One way a site lists its articles, and how far back it reaches: the source owns its
    date range, and a run (or a backfill) asking for older articles is told so."""

    name: str
    reach: timedelta | None  # how far back it lists; None: its whole history
    covers: str  # what it lists, for people

    def reaches(self, since: datetime, now: datetime) -> bool:
        return self.reach is None or since >= now - self.reach


class RequestPlanning(scrapy.Spider):
    """The request side of the site spiders (ArticleSpider builds on it).

    Manual runs: `-a url=URL` or `-a urls_file=FILE` (always fetched). Discovery runs (no URL):
    the site's listings, down to `-a since=YYYY-MM-DD` (default: the last run's high-water
    mark) and up to `-a until=YYYY-MM-DD` (a past range: no high-water mark is stored), skipping
    ids already in the archive unless `-a full=1`.
    """

    site: ClassVar[str]
    # The site's discovery sources by name, and the ones this run's settings turn on.
    SOURCES: ClassVar[dict[str, DiscoverySource]] = {}
    # Set up by ArticleSpider.from_crawler.
    config: Config
    state: ArchiveState
    ledger: OutcomeLedger
    allowed_domains: list[str]
    seed_sink: Any
    # ArticleSpider's: the callbacks of article requests, and the outcome of a URL.
    parse_article: Callable[..., Any]
    fetch_failed: Callable[..., Any]
    account: Callable[..., None]

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
                "%s: no discovery source reaches back to %s (%s); older articles: crawl "
                "--from wayback (or commoncrawl), or a URL list (--urls-file)",
                self.site,
                since.date(),
                reach,
            )
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
            self.ledger.give_up(given_up)
        if ledger.due or ledger.waiting:
            self.logger.info(
                "%s: retrying %d failed pages now, %d later",
                self.site,
                len(ledger.due),
                len(ledger.waiting),
            )
        requests = []
        for due in ledger.due:
            ref = self.parser.identify(due.url)
            request = self._request_for(ref, due.url, retry=True) if ref else None
            if request is not None:
                requests.append(request)
        return requests

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
        self,
        url: str,
        published: datetime | None,
        listing: str,
        queued_with: Mapping[str, Any] | None = None,
    ) -> scrapy.Request | None:
        """Decide what to do with one listed article: too old, off-site, archived, or fetch.
        Seeding the frontier, it is queued instead, with `queued_with` (a web-archive capture)
        for the worker that fetches it."""
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
            await run_in_thread(self.seed_sink.add, self.site, ref.id, ref.url, queued_with)
            return None
        looked_up = not self.full
        if looked_up:
            archived = await run_in_thread(
                self.state.archived_as_listed, self.site, ref.id, published, ARCHIVING
            )
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
            "discovery broken at %s: %s", request_of(failure).url, failure.getErrorMessage()
        )

    def json_of(self, response: Response) -> Any:
        """A listing's JSON, or None (counted as a discovery error) if it is not JSON."""
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError):
            start = response.body[:60]
            self.discovery_error(response, f"expected JSON, got {start!r}")
            return None

    def store_high_water(self, reason: str) -> None:
        """Store a finished discovery run's high-water mark for the next one (an interrupted
        run stores none: the next run starts where the last finished one did)."""
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


def epoch_time(value: object) -> datetime | None:
    """A listing's epoch seconds (an int, or a string of one) as Beijing time; None if not."""
    if not isinstance(value, (int, str)) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC).astimezone(BEIJING)
    except (ValueError, OverflowError):
        return None


def _requested_urls(url: str | None, urls_file: str | None) -> list[str]:
    return ([url] if url else []) + (read_urls_file(urls_file) if urls_file else [])
