"""Frontier workers' downloader middleware: every worker's requests to one site share
`[sites.<name>] shared_rate`, and their requests to a web archive (entries queued by
`backfill --from`) share `[history] <source>_rate`, through evenly spaced slots reserved in
Redis. Not a frontier worker (no REDIS_URL): the middleware is not configured."""

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
from crawler.frontier.queue import (
    REDIS_URL,
    RedisError,
)
from crawler.meta import WEB_CAPTURE
from crawler.stats import Stat
from crawler.webarchive.options import HistoryOptions


class SharedRateLimit:
    """Downloader middleware of workers: each request waits for its site's next slot."""

    def __init__(self, crawler: Crawler, per_second: float, history: HistoryOptions) -> None:
        self.crawler = crawler
        self.per_second = per_second  # the site's; 0: not limited
        self.history = history
        self.local_next: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedRateLimit:
        if not crawler.settings.get(REDIS_URL):
            raise NotConfigured  # not a frontier worker: silently off (no log line per crawl)
        config = config_of(crawler)
        rate = float(config.site(crawler.spidercls.name).shared_rate)
        return cls(crawler, max(rate, 0.0), config.history)

    def limit_of(self, request: Request) -> tuple[str, float]:
        """Whose rate this request takes: the web archive's holding its capture, or the
        site's. The name keys the shared slots in Redis."""
        spider: Any = self.crawler.spider
        capture = request.meta.get(WEB_CAPTURE)
        if capture is not None:
            return capture.source, self.history.rate(capture.source)
        return spider.site, self.per_second

    async def process_request(self, request: Request) -> None:
        spider: Any = self.crawler.spider
        name, per_second = self.limit_of(request)
        if per_second <= 0:
            return
        try:
            wait = await run_in_thread(spider.frontier.reserve, name, per_second)
        except RedisError:
            # Redis is away: pace this worker alone at the full rate (never faster).
            now = time.monotonic()
            self.local_next[name] = max(self.local_next.get(name, 0.0), now) + 1 / per_second
            wait = self.local_next[name] - now
        if wait > 0:
            from twisted.internet import reactor  # the one Scrapy installed (asyncio)

            self.crawler.stats.inc_value(Stat.RATE_WAITED)
            await deferred_to_future(task.deferLater(reactor, wait, lambda: None))
