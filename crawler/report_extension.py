"""A run report for `scrapy crawl` too: the same report `newsarchive crawl` writes.

`newsarchive crawl` runs both spiders in one process and writes one report for the whole run,
so it turns this extension off (NEWSARCHIVE_RUN_REPORT = False); a plain `scrapy crawl futu`
gets its report here, when the spider closes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.runner import CrawlSummary, counts_of
from crawler.runs import write_report
from crawler.spiders.base import FAILURES_STAT
from pipelines.spool import Spool
from pipelines.store import StoreError, open_store


class RunReportExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.started = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReportExtension:
        if not crawler.settings.getbool("NEWSARCHIVE_RUN_REPORT", True):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        archive = self.crawler.settings.getdict("NEWSARCHIVE_ARCHIVE")
        site = getattr(spider, "site", spider.name)
        summary = CrawlSummary(
            {site: counts_of(stats.get_stats())},
            pending_uploads=len(Spool(archive.get("spool_dir") or "./spool").pending()),
            failures={site: list(stats.get_value(FAILURES_STAT) or [])},
            discovery=not getattr(spider, "requested_urls", []),
            max_failure_ratio=self.crawler.settings.getdict("NEWSARCHIVE_CRAWL").get(
                "max_failure_ratio", 0.05
            ),
        )
        status = 1 if summary.problems or reason != "finished" else 0
        report = {
            "command": "scrapy crawl",
            **summary.report(self.started, datetime.now(UTC), status),
            "close_reason": reason,
        }
        try:
            key = write_report(open_store(archive), report)
        except StoreError as error:
            spider.logger.error("run report not stored: %s", error)
            return
        spider.logger.info("run report: %s", key)
