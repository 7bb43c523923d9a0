"""`scrapy crawl <site>`: Scrapy's command, exiting with the run's own status.

Scrapy exits 0 for any crawl that finished, so a cron line built on `scrapy crawl` would never
see a failed night. The run report extension (crawler/extensions/report.py) records the exit
status of the report it stores (0 ok, 1 problems; a bad setting is Scrapy's usage error, 2);
this command exits with it. Every option of Scrapy's command works as before. Stop signals
are taken as `newsarchive crawl` takes them.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.spiders import Spider

from crawler.runs.interrupts import INTERRUPTIONS
from crawler.stats import Exit, Stat


class Command(ScrapyCrawlCommand):
    crawlers: list[Crawler]

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        crawler = super()._create_crawler(spidercls)
        self.crawlers = [*getattr(self, "crawlers", []), crawler]
        return crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider: scrapy crawl <site>")
        assert self.crawler_process is not None
        # Stop signals as newsarchive crawl takes them: noted, one graceful stop, the run on
        # record as interrupted (crawler/runs/interrupts.py), never Scrapy's unclean stop.
        INTERRUPTIONS.hold()
        self.crawler_process.crawl(self._create_crawler(args[0]), **opts.spargs)
        INTERRUPTIONS.attach(self.crawler_process)
        try:
            self.crawler_process.start(install_signal_handlers=False)
        finally:
            INTERRUPTIONS.detach()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        statuses = [crawler.stats.get_value(Stat.EXIT_STATUS) for crawler in self.crawlers]
        if self.exitcode == 0 and any(status is None for status in statuses):
            # No report recorded (the extension is off, or the crawl stopped before it ran):
            # a run that cannot say how it went is not a clean night.
            self.exitcode = Exit.PROBLEMS
        self.exitcode = max([self.exitcode, *(int(s) for s in statuses if s is not None)])
