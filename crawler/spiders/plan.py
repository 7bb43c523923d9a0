"""What a spider requests, and why: manual URLs, revisits, retries, discovery decisions.

The run's arguments (`-a url=`, `urls_file=`, `since=`, `until=`, `full=`, `revisit_only=`)
are read once into `RunArguments`; `RequestPlan` turns them into requests, each article at
most once per run: revisits owed by the `[revisit]` schedule, failed pages the retry ledger
says are due, and what a discovery source lists that is new since the last run's high-water
mark. A plain object the spider holds, built from its collaborators (the archive state, the
outcome ledger, the crawl stats), so it can be driven without a crawl. Where requests come
from is a source's (sources.py); what a fetched page becomes is base.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from logging import Logger, LoggerAdapter
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import UsageError
from scrapy.statscollectors import StatsCollector
from scrapy.utils.asyncio import run_in_thread

from crawler.config import RetryConfig, RevisitConfig
from crawler.items import BEIJING, beijing_midnight, parse_day
from crawler.meta import CAPTURE_OF_ID, PREVIOUS_CAPTURE, REVISIT
from crawler.outcomes import ARCHIVING, OUTCOMES
from crawler.parsers.base import PageRef, SiteParser
from crawler.spiders.ledger import OutcomeLedger
from crawler.stats import Stat
from crawler.urls import read_urls_file, rebase_url
from pipelines.state import ArchiveState, RetryPolicy

# A new run re-reads this much before the last high-water mark: late-listed items are caught,
# and the per-id index keeps them from being fetched twice.
HIGH_WATER_OVERLAP = timedelta(hours=1)


def _flag(value: str | bool) -> bool:
    return str(value).lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class RunArguments:
    """The spider's arguments, read once. Manual runs: `url` or `urls_file` (always fetched).
    Discovery runs (no URL): down to `since` (default: the last run's high-water mark) and up
    to the end of the `until` day (a past range: no high-water mark is stored), skipping ids
    already archived unless `full`."""

    requested_urls: list[str]
    since: datetime | None = None
    until: datetime | None = None
    since_asked: bool = False  # `--since` given, not the last run's mark
    full: bool = False
    revisit_only: bool = False

    @classmethod
    def read(
        cls,
        url: str | None = None,
        urls_file: str | None = None,
        urls: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        full: str | bool = False,
        revisit_only: str | bool = False,
    ) -> RunArguments:
        try:
            requested = ([url] if url else []) + (read_urls_file(urls_file) if urls_file else [])
            return cls(
                requested + list(urls or []),
                beijing_midnight(parse_day(since)) if since else None,
                # The end of the `until` day (Beijing): a past range, as a backfill asks for.
                beijing_midnight(parse_day(until)) + timedelta(days=1) if until else None,
                since is not None,
                _flag(full),
                _flag(revisit_only),
            )
        except ValueError as error:
            raise UsageError(str(error)) from None


@dataclass(frozen=True)
class DiscoverySource:
    """One way a site lists its articles, and how far back it reaches: the source owns its
    date range, and a run (or a backfill) asking for older articles is told so."""

    name: str
    reach: timedelta | None  # how far back it lists; None: its whole history
    covers: str  # what it lists, for people

    def reaches(self, since: datetime, now: datetime) -> bool:
        return self.reach is None or since >= now - self.reach


@dataclass(frozen=True)
class ArticleCallbacks:
    """Where an article request's answer goes: the spider's parse and its errback."""

    parse: Callable[..., Any]
    failed: Callable[..., Any]


class RequestPlan:
    """The request side of one site's crawl: one request per article per run, every one
    counted as requested and ended in one outcome (the ledger)."""

    def __init__(
        self,
        site: str,
        args: RunArguments,
        *,
        parser: SiteParser,
        state: ArchiveState,
        stats: StatsCollector,
        ledger: OutcomeLedger,
        logger: Logger | LoggerAdapter[Any],
        revisit: RevisitConfig,
        retry: RetryConfig,
        base_url: str,
        allowed_domains: list[str],
        callbacks: ArticleCallbacks,
        url_limit: int = 0,
        seed_sink: Any = None,  # `backfill`: listed articles are queued, not fetched
    ) -> None:
        self.site, self.args, self.parser, self.state = site, args, parser, state
        self.stats, self.ledger, self.logger = stats, ledger, logger
        self.revisit, self.retry = revisit, retry
        self.base_url, self.allowed_domains = base_url, allowed_domains
        self.callbacks, self.url_limit, self.seed_sink = callbacks, url_limit, seed_sink
        self.since, self.until = args.since, args.until
        self.high_water: datetime | None = None
        self.requested_ids: set[str] = set()

    @property
    def seeding(self) -> bool:
        return self.seed_sink is not None

    def article_request(self, url: str) -> scrapy.Request | None:
        """A request for one article URL of this site, fetched through the configured base."""
        ref = self.parser.identify(url)
        if ref is None:
            self.stats.inc_value(Stat.UNSUPPORTED_URL)
            self.logger.error("Not a %s article URL, skipped: %s", self.site, url)
            return None
        return self.request_for(ref, url)

    def request_for(
        self, ref: PageRef, source_url: str, unindexed: bool = False, retry: bool = False
    ) -> scrapy.Request | None:
        """The one request of this run for an article (None: already requested, or filtered
        here with its outcome counted). Every URL counted as requested ends in one outcome."""
        if ref.id in self.requested_ids:
            return None
        self.requested_ids.add(ref.id)
        self.stats.inc_value(Stat.REQUESTED)
        if retry:
            self.stats.inc_value(Stat.RETRIED)
        url = rebase_url(self.base_url, ref.url)
        self.allow_host(url)  # another host of this site (an article on tech.qq.com, say)
        if self.url_limit and len(url) > self.url_limit:
            self.ledger.account("url_too_long", ref.url, ref.id, f"{len(url)} characters")
            return None
        return scrapy.Request(
            url,
            callback=self.callbacks.parse,
            errback=self.callbacks.failed,
            cb_kwargs={"ref": ref, "source_url": source_url, "unindexed": unindexed},
            # An id that may be archived: its capture is looked up, so that an unchanged page
            # is written as a WARC revisit record rather than a second copy.
            meta={} if unindexed else {CAPTURE_OF_ID: ref.id},
        )

    def allow_host(self, url: str) -> None:
        """Let the crawl ask `url`'s host (Scrapy's offsite filter re-reads the list)."""
        host = urlsplit(url).hostname or ""
        if host and host not in self.allowed_domains:
            self.allowed_domains.append(host)

    def revisit_requests(self) -> list[scrapy.Request]:
        """Archived articles owed a revisit now (`[revisit]`), as conditional requests."""
        policy = self.revisit.policy(self.retry.lookback_days)
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
            request = self.request_for(ref, due.url) if ref else None
            if request is None:
                continue
            self.stats.inc_value(Stat.REVISITED)
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
        policy = RetryPolicy(
            self.retry.max_attempts,
            self.retry.backoff_minutes,
            self.retry.lookback_days,
            frozenset(name for name, entry in OUTCOMES.items() if entry.retried),
        )
        try:
            due_now = self.state.retry_ledger(self.site, policy)
        except Exception as error:  # the archive is down: the next run retries them
            self.logger.error("retry ledger not readable, no retries this run: %s", error)
            return []
        for given_up in due_now.exhausted:
            self.ledger.give_up(given_up)
        if due_now.due or due_now.waiting:
            self.logger.info(
                "%s: retrying %d failed pages now, %d later",
                self.site,
                len(due_now.due),
                len(due_now.waiting),
            )
        requests = []
        for due in due_now.due:
            ref = self.parser.identify(due.url)
            request = self.request_for(ref, due.url, retry=True) if ref else None
            if request is not None:
                requests.append(request)
        return requests

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
        self.stats.inc_value(Stat.DISCOVERED)
        if published is not None:
            if self.high_water is None or published > self.high_water:
                self.high_water = published
            if self.since is not None and published < self.since:
                self.stats.inc_value(Stat.TOO_OLD)
                return None
            if self.until is not None and published >= self.until:
                self.stats.inc_value(Stat.TOO_NEW)
                return None
        ref = self.parser.identify(url)
        if ref is None:
            self.stats.inc_value(Stat.OFFSITE_REFUSED)
            self.logger.warning("listing %s points off-site, not fetched: %s", listing, url)
            return None
        if ref.id in self.requested_ids:
            return None  # listed twice (several listings, or a retry of it this run)
        if self.seed_sink is not None:
            self.requested_ids.add(ref.id)
            await run_in_thread(self.seed_sink.add, self.site, ref.id, ref.url, queued_with)
            return None
        looked_up = not self.args.full
        if looked_up:
            archived = await run_in_thread(
                self.state.archived_as_listed, self.site, ref.id, published, ARCHIVING
            )
            if archived is None:
                self.logger.warning("archive cannot say if %s is archived: fetching it", url)
                looked_up = False
            if archived:
                self.stats.inc_value(Stat.ALREADY_ARCHIVED)
                return None
        return self.request_for(ref, url, unindexed=looked_up)

    def warn_beyond_reach(self, since: datetime, sources: list[DiscoverySource]) -> None:
        """Say it when no active source lists articles as old as `since`."""
        now = datetime.now(UTC)
        if sources and not any(source.reaches(since, now) for source in sources):
            reach = "; ".join(f"{s.name}: {s.covers}" for s in sources)
            self.logger.warning(
                "%s: no discovery source reaches back to %s (%s); older articles: crawl "
                "--from wayback (or commoncrawl), or a URL list (--urls-file)",
                self.site,
                since.date(),
                reach,
            )
            self.stats.set_value(Stat.BEYOND_REACH, 1)

    def start_from_high_water(self) -> None:
        """A nightly run with no `--since` starts where the last finished one got to."""
        if self.since is None and not self.args.full:
            self.since = self.last_high_water()
        if self.since is not None:
            self.logger.info("discovering %s articles published since %s", self.site, self.since)

    def store_high_water(self, reason: str) -> None:
        """Store a finished discovery run's high-water mark for the next one (an interrupted
        run stores none: the next run starts where the last finished one did). A past range
        (`until`) or a seeding run is not where the nightly runs got to: no mark from it."""
        errors = self.stats.get_value(Stat.DISCOVERY_ERRORS, 0)
        past_range = self.until is not None or self.seeding
        if self.args.requested_urls or reason != "finished" or errors or past_range:
            return
        if self.high_water is None:
            return
        try:
            self.state.record_run(self.site, self.high_water, datetime.now(UTC))
        except Exception as error:  # the next run re-reads from the previous mark
            self.logger.error("high-water mark not stored: %s", error)

    def last_high_water(self) -> datetime | None:
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
