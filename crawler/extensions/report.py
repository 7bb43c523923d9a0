"""A run report for `scrapy crawl` too: the same report `newsarchive crawl` writes.

`newsarchive crawl` runs every spider in one process and writes one report for the whole run,
so it turns this extension off (NEWSARCHIVE_RUN_REPORT = False); a plain `scrapy crawl <site>`
gets its report here, when the spider closes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.addon import RUN_REPORT, config_of
from crawler.health.assess import conclude
from crawler.health.summary import CrawlSummary, SiteRun
from crawler.logs import log_problems
from crawler.stats import Exit, Stat
from pipelines.spool import Spool
from pipelines.store import shared_store


def _kind(spider: Spider) -> str:
    if getattr(spider, "revisit_only", False):
        return "revisits"
    if getattr(spider, "requested_urls", []):
        return "urls"
    backfill = getattr(spider, "since_asked", False) or getattr(spider, "until", None)
    return "backfill" if backfill or getattr(spider, "full", False) else "discovery"


class RunReportExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.started = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReportExtension:
        if not crawler.settings.getbool(RUN_REPORT, True):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        config = config_of(self.crawler)
        self.crawler.stats.set_value(Stat.CLOSE_REASON, reason)
        stats = self.crawler.stats.get_stats()
        site = getattr(spider, "site", spider.name)
        summary = CrawlSummary(
            {site: SiteRun.of(stats)},
            pending_uploads=Spool(config.archive.spool_dir).uploads_pending(),
            discovery=not getattr(spider, "requested_urls", [])
            and not getattr(spider, "revisit_only", False),
            revisits_only=getattr(spider, "revisit_only", False),
            kind=_kind(spider),
            max_failure_ratio=config.crawl.max_failure_ratio,
            retry_attempts=config.retry.max_attempts,
        )
        report = {
            "command": "scrapy crawl",
            **summary.report(self.started, datetime.now(UTC), summary.exit_status),
        }
        if config.logging.format == "json":
            log_problems(summary.problems)
        concluded = conclude(report, shared_store(config.archive), config.health())
        status = summary.exit_status
        if concluded.report_error:
            kept = "spooled" if concluded.spooled else "lost"
            spider.logger.error(
                "run report %s not stored (%s): %s",
                concluded.report_key,
                concluded.report_error,
                kept,
            )
            status = Exit.PROBLEMS
        else:
            spider.logger.info("run report: %s", concluded.report_key)
        # What `scrapy crawl` exits with (crawler/scrapy_commands/crawl.py).
        self.crawler.stats.set_value(Stat.EXIT_STATUS, int(status))
