"""Frontier workers' downloader middleware: every worker's requests to one site share
`[sites.<name>] shared_rate`, through evenly spaced slots reserved in Redis. Not a frontier
worker (no REDIS_URL): the middleware is not configured."""

from __future__ import annotations

import time
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import deferred_to_future
from twisted.internet import task

from crawler.addon import config_of
from crawler.backfill.frontier import (
    REDIS_URL,
    RedisError,
)
from crawler.stats import Stat


class SharedRateLimit:
    """Downloader middleware of workers: each request waits for its site's next slot."""

    def __init__(self, crawler: Crawler, per_second: float) -> None:
        self.crawler = crawler
        self.per_second = per_second
        self.local_next = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedRateLimit:
        if not crawler.settings.get(REDIS_URL):
            raise NotConfigured  # not a frontier worker: silently off (no log line per crawl)
        rate = float(config_of(crawler).site(crawler.spidercls.name).shared_rate)
        if rate <= 0:
            raise NotConfigured("no shared rate for this site")
        return cls(crawler, rate)

    async def process_request(self, request: Request) -> None:
        spider: Any = self.crawler.spider
        try:
            wait = await run_in_thread(spider.frontier.reserve, spider.site, self.per_second)
        except RedisError:
            # Redis is away: pace this worker alone at the full rate (never faster).
            now = time.monotonic()
            self.local_next = max(self.local_next, now) + 1 / self.per_second
            wait = self.local_next - now
        if wait > 0:
            from twisted.internet import reactor  # the one Scrapy installed (asyncio)

            self.crawler.stats.inc_value(Stat.RATE_WAITED)
            await deferred_to_future(task.deferLater(reactor, wait, lambda: None))
