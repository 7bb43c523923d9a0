"""Shared spider behaviour: config-driven settings, manual URL runs, parse-or-reject.

A page that does not become an article is never dropped: it is counted in the crawl stats
under its reason, logged with its URL, and handed to the pipeline as a `RejectedItem` so the
raw bytes are archived.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import run_in_thread
from twisted.python.failure import Failure

from crawler.config import Config, ConfigError, load_config
from crawler.items import ArticleItem, FetchedPage, RejectedItem
from crawler.parsers import PARSERS, PageRejected
from crawler.parsers.base import PageRef, SiteParser
from crawler.parsers.dates import BEIJING
from crawler.rendering import render_meta, render_settings
from crawler.urls import fetch_url
from pipelines.layout import index_key, run_state_key
from pipelines.store import ArchiveStore, open_store

STATS_PREFIX = "newsarchive"
# Pages that failed (parse error, blocked, fetch failed), with URLs, for the run report.
FAILURES_STAT = f"{STATS_PREFIX}/failure_list"
MAX_LISTED_FAILURES = 500
# A new run re-reads this much before the last high-water mark: late-listed items are caught,
# and the per-id index keeps them from being fetched twice.
HIGH_WATER_OVERLAP = timedelta(hours=1)


def config_settings(config: Config) -> dict[str, Any]:
    """Scrapy settings derived from the validated config."""
    crawl = config.crawl
    return {
        "USER_AGENT": crawl["user_agent"],
        "ROBOTSTXT_OBEY": crawl["obey_robots_txt"],
        "DOWNLOAD_DELAY": crawl["download_delay"],
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl["concurrent_requests_per_domain"],
        "AUTOTHROTTLE_ENABLED": crawl["autothrottle"],
        "RETRY_TIMES": crawl["retry_times"],
        "DOWNLOAD_TIMEOUT": crawl["download_timeout"],
        "LOG_LEVEL": crawl["log_level"],
        "NEWSARCHIVE_RENDER_CHALLENGES": crawl["render_challenges"],
        "NEWSARCHIVE_CRAWL": crawl,
        "NEWSARCHIVE_ARCHIVE": config.archive,
        "NEWSARCHIVE_SITES": config.sites,
    }


class ArticleSpider(scrapy.Spider):
    """Base for the site spiders.

    Manual runs: `-a url=URL` or `-a urls_file=FILE` (always fetched). Discovery runs (no URL):
    the site's listings, down to `-a since=YYYY-MM-DD` (default: the last run's high-water
    mark), skipping ids already in the archive unless `-a full=1`.
    """

    site: ClassVar[str]
    # Origins of the real site that the configured base URLs stand in for.
    origins: ClassVar[dict[str, str]]

    def __init__(
        self,
        url: str | None = None,
        urls_file: str | None = None,
        urls: list[str] | None = None,
        since: str | None = None,
        full: str | bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.requested_urls = _requested_urls(url, urls_file) + list(urls or [])
        self.since = _parse_since(since) if since else None
        self.full = str(full).lower() in ("1", "true", "yes")
        self.high_water: datetime | None = None
        self.store: ArchiveStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArticleSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        sites = crawler.settings.getdict("NEWSARCHIVE_SITES")[cls.site]
        # Only the configured hosts (live site or mirror) may be fetched.
        spider.allowed_domains = sorted(
            {urlsplit(v).hostname or "" for k, v in sites.items() if k.endswith("base_url")}
        )
        spider.store = open_store(crawler.settings.getdict("NEWSARCHIVE_ARCHIVE"))
        return spider

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Apply the TOML config at spider priority, so `-s NAME=VALUE` still wins."""
        super().update_settings(settings)
        try:
            config = load_config(settings.get("NEWSARCHIVE_CONFIG"))
        except ConfigError as error:
            raise UsageError(str(error)) from None
        settings.setdict(config_settings(config), priority="spider")
        # `--render` / `-s NEWSARCHIVE_RENDER_CHALLENGES=1` arrive at a higher priority.
        if settings.getbool("NEWSARCHIVE_RENDER_CHALLENGES") and cls._ready_selector():
            settings.setdict(render_settings(config.crawl), priority="spider")

    @classmethod
    def _ready_selector(cls) -> str | None:
        """CSS that marks a rendered page as loaded; None for sites without challenges."""
        return getattr(PARSERS[cls.site], "ready_selector", None)

    @property
    def parser(self) -> SiteParser:
        return PARSERS[self.site]

    @property
    def site_settings(self) -> dict[str, Any]:
        return self.settings.getdict("NEWSARCHIVE_SITES")[self.site]

    @property
    def base_url(self) -> str:
        return self.site_settings["base_url"]

    def endpoint(self, setting: str, path: str) -> str:
        """A listing URL: the configured base for `setting` plus the real path."""
        return self.site_settings[setting].rstrip("/") + path

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.requested_urls:
            for url in self.requested_urls:
                request = self.article_request(url)
                if request is not None:
                    yield request
            return
        if self.since is None:
            self.since = await run_in_thread(self._last_high_water)
        if self.since is not None:
            self.logger.info("discovering %s articles published since %s", self.site, self.since)
        for request in self.discovery_requests():
            yield request

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        """The first listing requests of the site (sitemaps, APIs)."""
        raise NotImplementedError

    def article_request(self, url: str) -> scrapy.Request | None:
        """A request for one article URL of this site, fetched through the configured base."""
        ref = self.parser.identify(url)
        if ref is None:
            self.crawler.stats.inc_value(f"{STATS_PREFIX}/unsupported_url")
            self.logger.error("Not a %s article URL, skipped: %s", self.site, url)
            return None
        return self._request_for(ref, url)

    @property
    def renders_challenges(self) -> bool:
        return self.settings.getbool("NEWSARCHIVE_RENDER_CHALLENGES") and bool(
            self._ready_selector()
        )

    def _request_for(
        self, ref: PageRef, source_url: str, unindexed: bool = False
    ) -> scrapy.Request:
        return scrapy.Request(
            fetch_url(self.base_url, ref.url),
            callback=self.parse_article,
            errback=self.fetch_failed,
            cb_kwargs={"ref": ref, "source_url": source_url, "unindexed": unindexed},
        )

    async def discovered(
        self, url: str, published: datetime | None, listing: str
    ) -> scrapy.Request | None:
        """Decide what to do with one listed article: too old, off-site, archived, or fetch."""
        stats = self.crawler.stats
        stats.inc_value(f"{STATS_PREFIX}/discovered")
        if published is not None:
            if self.high_water is None or published > self.high_water:
                self.high_water = published
            if self.since is not None and published < self.since:
                stats.inc_value(f"{STATS_PREFIX}/too_old")
                return None
        ref = self.parser.identify(url)
        if ref is None:
            stats.inc_value(f"{STATS_PREFIX}/offsite_refused")
            self.logger.warning("listing %s points off-site, not fetched: %s", listing, url)
            return None
        looked_up = not self.full and self.store is not None
        if looked_up and await run_in_thread(self.store.exists, index_key(self.site, ref.id)):
            stats.inc_value(f"{STATS_PREFIX}/already_archived")
            return None
        return self._request_for(ref, url, unindexed=looked_up)

    def discovery_error(self, response: Response, why: str) -> None:
        """A listing that changed shape: counted and logged, never taken for 'no news'."""
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/discovery_errors")
        self.logger.error("discovery broken at %s: %s", response.url, why)

    def listing_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/discovery_errors")
        self.logger.error(
            "discovery broken at %s: %s", failure.request.url, failure.getErrorMessage()
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
        """Store the high-water mark of a finished discovery run for the next one."""
        errors = self.crawler.stats.get_value(f"{STATS_PREFIX}/discovery_errors", 0)
        if self.requested_urls or reason != "finished" or errors or self.high_water is None:
            return
        ended = datetime.now(UTC)
        state = {"high_water": self.high_water.isoformat(), "ended": ended.isoformat()}
        if self.store is not None:
            body = json.dumps(state).encode()
            self.store.put_if_absent(run_state_key(self.site, ended), body, "application/json")

    def _last_high_water(self) -> datetime | None:
        if self.store is None:
            return None
        keys = list(self.store.list(f"state/{self.site}/runs/"))
        if not keys:
            return None
        state = json.loads(self.store.get(max(keys)) or b"{}")
        mark = state.get("high_water")
        return datetime.fromisoformat(mark) - HIGH_WATER_OVERLAP if mark else None

    def parse_article(
        self,
        response: Response,
        ref: PageRef,
        source_url: str,
        challenge: tuple[FetchedPage, PageRejected] | None = None,
        unindexed: bool = False,
    ) -> Iterable[ArticleItem | RejectedItem | scrapy.Request]:
        """Parse with the site parser; anything that is not an article becomes a RejectedItem.

        `challenge` is set on the rendered retry of a challenge page (kept for render_failed).
        """
        stats = self.crawler.stats
        stats.inc_value(f"{STATS_PREFIX}/fetched")
        rendered = bool(response.meta.get("playwright"))
        page = FetchedPage(
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
        )
        if rendered:
            stats.inc_value(f"{STATS_PREFIX}/rendered")
        try:
            article = self.parser.parse(ref.url, response.body, page.headers)
        except PageRejected as rejected:
            if rejected.reason == "blocked" and self.renders_challenges and not rendered:
                yield self._render_request(response, ref, source_url, page, rejected)
                return
            stats.inc_value(f"{STATS_PREFIX}/{rejected.reason}")
            if rejected.reason != "not_article":
                self.note_failure(rejected.reason, page.url, str(rejected))
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
        stats.inc_value(f"{STATS_PREFIX}/parsed")
        yield ArticleItem(page=page, article=article, unindexed=unindexed)

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
        timeout = self.settings.getdict("NEWSARCHIVE_CRAWL").get("render_timeout", 30)
        return response.request.replace(
            meta=render_meta(self._ready_selector() or "body", timeout),
            errback=self.render_failed,
            cb_kwargs={**response.request.cb_kwargs, "challenge": (challenge, rejected)},
            dont_filter=True,
        )

    def render_failed(self, failure: Failure) -> Iterable[RejectedItem]:
        """Chromium could not get past the challenge: the original page is kept as blocked."""
        page, rejected = failure.request.cb_kwargs["challenge"]
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/blocked")
        self.note_failure("blocked", page.url, f"rendering failed: {failure.getErrorMessage()}")
        self.logger.warning(
            "blocked: %s (rendering failed: %s)", page.fetched_url, failure.getErrorMessage()
        )
        yield RejectedItem(
            page=page,
            reason="blocked",
            detail=f"{rejected.detail}; rendering failed: {failure.getErrorMessage()}",
        )

    def fetch_failed(self, failure: Failure) -> None:
        """Count and log a request that failed after Scrapy's retries."""
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/fetch_failed")
        ref = failure.request.cb_kwargs.get("ref")
        url = ref.url if ref is not None else failure.request.url
        self.note_failure("fetch_failed", url, failure.getErrorMessage())
        self.logger.error("fetch failed: %s (%s)", failure.request.url, failure.getErrorMessage())

    def note_failure(self, reason: str, url: str, detail: str) -> None:
        """Remember a failed page's URL for the run report (the first few hundred)."""
        failures = self.crawler.stats.get_value(FAILURES_STAT)
        if failures is None:
            failures = []
            self.crawler.stats.set_value(FAILURES_STAT, failures)
        if len(failures) < MAX_LISTED_FAILURES:
            failures.append({"reason": reason, "url": url, "detail": detail[:300]})


def _parse_since(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=BEIJING)
    except ValueError:
        raise UsageError(f"since must be YYYY-MM-DD, got {value!r}") from None


def _requested_urls(url: str | None, urls_file: str | None) -> list[str]:
    urls = [url] if url else []
    if urls_file:
        lines = Path(urls_file).read_text(encoding="utf-8").splitlines()
        urls += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return urls


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
