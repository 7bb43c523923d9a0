"""A crawl that makes no progress is stopped in order and reported, never left hanging.

Progress is any request leaving the downloader (answered or failed) or any item the pipeline
finished with. With none for `crawl.stall_timeout` seconds the spider is closed with reason
"stalled" (the summary reports the run interrupted, exit 1, and no high-water mark is stored).
An orderly close waits for the requests in flight, which their own timeouts bound
(`crawl.download_timeout`, the render deadline). If even that does not finish within
stall_timeout + download_timeout + a margin, the process exits with status 1 on the spot:
the kernel releases the site lock, and the next run publishes the journaled outcomes. A
hung process holding the lock every night after would be worse than one lost report.
"""

from __future__ import annotations

import logging
import os
import time

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.addon import STALL_TIMEOUT
from crawler.stats import Stat

STALLED = "stalled"
CLOSE_MARGIN_SECONDS = 30
LOG = logging.getLogger("newsarchive.watchdog")


class Watchdog:
    def __init__(self, crawler: Crawler, timeout: float) -> None:
        self.crawler = crawler
        self.timeout = timeout
        download_timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        self.close_grace = timeout + download_timeout + CLOSE_MARGIN_SECONDS
        self.last_progress = time.monotonic()
        self.stop_asked: float | None = None
        self.loop = task.LoopingCall(self.check)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Watchdog:
        timeout = crawler.settings.getfloat(STALL_TIMEOUT)
        if timeout <= 0:
            raise NotConfigured
        watchdog = cls(crawler, timeout)
        for signal in (
            signals.request_left_downloader,
            signals.item_scraped,
            signals.item_dropped,
            signals.item_error,
        ):
            crawler.signals.connect(watchdog.progress, signal=signal)
        crawler.signals.connect(watchdog.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(watchdog.spider_closed, signal=signals.spider_closed)
        return watchdog

    def progress(self, *_: object, **__: object) -> None:
        self.last_progress = time.monotonic()

    def spider_opened(self, spider: Spider) -> None:
        self.last_progress = time.monotonic()
        self.loop.start(min(self.timeout / 4, 30), now=False)

    def spider_closed(self, spider: Spider) -> None:
        if self.loop.running:
            self.loop.stop()

    def check(self) -> None:
        now = time.monotonic()
        if self.stop_asked is not None:
            if now - self.stop_asked > self.close_grace:
                LOG.critical(
                    "PROBLEM: interrupted: the stalled crawl did not close in %.0f s; exiting "
                    "with status 1 (no run report; the next run publishes its outcomes)",
                    self.close_grace,
                )
                logging.shutdown()
                os._exit(1)
            return
        engine = self.crawler.engine
        if engine is not None and engine.spider_is_idle():
            # Nothing in flight is no stall: a frontier worker waiting for work (a crawl
            # with nothing left closes by itself).
            self.last_progress = now
        idle = now - self.last_progress
        if idle < self.timeout:
            return
        LOG.error("no progress for %.0f s: stopping the crawl (crawl.stall_timeout)", idle)
        self.stop_asked = now
        self.crawler.stats.set_value(Stat.CLOSE_REASON, STALLED)
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason=STALLED))
