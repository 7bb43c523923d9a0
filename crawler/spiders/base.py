"""Shared spider behaviour: config-driven settings, manual URL runs, parse-or-reject.

A page that does not become an article is never dropped: it is counted in the crawl stats
under its reason, logged with its URL, and handed to the pipeline as a `RejectedItem` so the
raw bytes are archived.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from scrapy.exceptions import UsageError
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.config import Config, ConfigError, load_config
from crawler.items import ArticleItem, FetchedPage, RejectedItem
from crawler.parsers import PARSERS, PageRejected
from crawler.parsers.base import PageRef, SiteParser
from crawler.urls import fetch_url

STATS_PREFIX = "newsarchive"


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
        "NEWSARCHIVE_ARCHIVE": config.archive,
        "NEWSARCHIVE_SITES": config.sites,
    }


class ArticleSpider(scrapy.Spider):
    """Base for the site spiders: `-a url=URL` or `-a urls_file=FILE` archives given articles."""

    site: ClassVar[str]

    def __init__(
        self,
        url: str | None = None,
        urls_file: str | None = None,
        urls: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.requested_urls = _requested_urls(url, urls_file) + list(urls or [])

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Apply the TOML config at spider priority, so `-s NAME=VALUE` still wins."""
        super().update_settings(settings)
        try:
            config = load_config(settings.get("NEWSARCHIVE_CONFIG"))
        except ConfigError as error:
            raise UsageError(str(error)) from None
        settings.setdict(config_settings(config), priority="spider")

    @property
    def parser(self) -> SiteParser:
        return PARSERS[self.site]

    @property
    def base_url(self) -> str:
        return self.settings.getdict("NEWSARCHIVE_SITES")[self.site]["base_url"]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.requested_urls:
            request = self.article_request(url)
            if request is not None:
                yield request

    def article_request(self, url: str) -> scrapy.Request | None:
        """A request for one article URL of this site, fetched through the configured base."""
        ref = self.parser.identify(url)
        if ref is None:
            self.crawler.stats.inc_value(f"{STATS_PREFIX}/unsupported_url")
            self.logger.error("Not a %s article URL, skipped: %s", self.site, url)
            return None
        return scrapy.Request(
            fetch_url(self.base_url, ref.url),
            callback=self.parse_article,
            errback=self.fetch_failed,
            cb_kwargs={"ref": ref, "source_url": url},
            dont_filter=False,
        )

    def parse_article(
        self, response: Response, ref: PageRef, source_url: str
    ) -> Iterable[ArticleItem | RejectedItem]:
        """Parse with the site parser; anything that is not an article becomes a RejectedItem."""
        stats = self.crawler.stats
        stats.inc_value(f"{STATS_PREFIX}/fetched")
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
        )
        try:
            article = self.parser.parse(ref.url, response.body, page.headers)
        except PageRejected as rejected:
            stats.inc_value(f"{STATS_PREFIX}/{rejected.reason}")
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
        yield ArticleItem(page=page, article=article)

    def fetch_failed(self, failure: Failure) -> None:
        """Count and log a request that failed after Scrapy's retries."""
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/fetch_failed")
        self.logger.error("fetch failed: %s (%s)", failure.request.url, failure.getErrorMessage())


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
