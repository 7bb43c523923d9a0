"""A run report for `scrapy crawl` too: the same ending `newsarchive crawl` goes through.

`newsarchive crawl` runs every spider in one process and writes one report for the whole run,
so it turns this extension off (NEWSARCHIVE_RUN_REPORT = False); a plain `scrapy crawl <site>`
ends here when the spider closes, through crawler/runs/ending.py like every other run, and
says in its log what the other runs print.
"""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.addon import RUN_REPORT, config_of
from crawler.health.summary import SiteRun
from crawler.runs.ending import conclude_run, run_kind, summarise
from crawler.stats import Stat
from pipelines.store import shared_store


def kind_of(spider: Spider) -> str:
    """The run's kind, from the spider's own arguments (the command line's `-a`)."""
    args = getattr(spider, "args", None)  # an ArticleSpider's RunArguments
    return run_kind(
        urls=bool(getattr(args, "requested_urls", [])),
        revisit_only=bool(getattr(args, "revisit_only", False)),
        since=bool(getattr(args, "since_asked", False)),
        until=getattr(args, "until", None) is not None,
        full=bool(getattr(args, "full", False)),
        source=bool(getattr(spider, "from_archive", None)),
    )


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
        site = getattr(spider, "site", spider.name)
        runs = {site: SiteRun.of(self.crawler.stats.get_stats())}
        summary = summarise(config, runs, kind_of(spider))
        store = shared_store(config.archive)
        concluded = conclude_run(summary, config, store, self.started, "scrapy crawl")
        if config.logging.format != "json":  # JSON logs have them from the ending
            for problem in summary.problems:
                spider.logger.error("PROBLEM: %s", problem)
        if concluded.report_error:
            kept = "spooled" if concluded.spooled else "lost"
            spider.logger.error(
                "run report %s not stored (%s): %s",
                concluded.report_key,
                concluded.report_error,
                kept,
            )
        else:
            spider.logger.info("run report: %s", concluded.report_key)
        # What `scrapy crawl` exits with (crawler/scrapy_commands/crawl.py).
        self.crawler.stats.set_value(Stat.EXIT_STATUS, int(concluded.exit_status))
