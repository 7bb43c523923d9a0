"""The Scrapy item pipeline that archives items through the shared store.

Store I/O runs in threads (`run_in_thread`), at most `archive.upload_concurrency` at once,
so a slow bucket never blocks the reactor. When the store fails (after botocore's retries)
the item goes to the local spool instead of being dropped; the spool is flushed when the
next crawl opens, and the crawl's stats say how many items are still pending.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.asyncio import run_in_thread

from crawler.items import ArticleItem, RejectedItem
from pipelines.archiver import ArchiveResult, archive_article, archive_rejected
from pipelines.daily import DailyIndex
from pipelines.spool import Spool
from pipelines.store import ArchiveStore, StoreError, check_store, open_store

STATS_PREFIX = "newsarchive/archive"


class ArchivePipeline:
    """Archive ArticleItems (new, new version, or unchanged) and RejectedItems (kept raw)."""

    def __init__(self, store: ArchiveStore, spool: Spool, crawler: Crawler, concurrency: int):
        self.store = store
        self.spool = spool
        self.daily = DailyIndex(spool.directory)
        self.crawler = crawler
        self.slots = asyncio.Semaphore(concurrency)
        self.store_down = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        archive = crawler.settings.getdict("NEWSARCHIVE_ARCHIVE") or {"location": "./archive"}
        store = open_store(archive)
        # Fail before any page is fetched: a wrong bucket or secret is a setup error.
        check_store(store)
        spool = Spool(archive.get("spool_dir") or "./spool")
        return cls(store, spool, crawler, int(archive.get("upload_concurrency") or 8))

    async def open_spider(self) -> None:
        if self.spool.pending():
            indexer = partial(self.daily.add_article, self.store)
            result = await run_in_thread(self.spool.flush, self.store, indexer)
            self.crawler.stats.set_value(f"{STATS_PREFIX}/flushed", result.uploaded)
        await run_in_thread(self.daily.flush, self.store)  # lines a killed run journaled

    async def close_spider(self) -> None:
        if not self.store_down:
            await run_in_thread(self.daily.flush, self.store)
        self.crawler.stats.set_value(f"{STATS_PREFIX}/pending", len(self.spool.pending()))

    def _archive(self, item: ArticleItem | RejectedItem) -> ArchiveResult:
        """Runs in a worker thread: store the item, then journal its per-day index line."""
        if isinstance(item, RejectedItem):
            return archive_rejected(self.store, item)
        return archive_article(self.store, item, partial(self.daily.add_article, self.store, item))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, (ArticleItem, RejectedItem)):
            return item
        if self.store_down:
            # Once the store has failed after botocore's retries, the rest of this run goes
            # straight to the spool instead of waiting out the same retries per item.
            await run_in_thread(self.spool.add, item)
            self.crawler.stats.inc_value(f"{STATS_PREFIX}/spooled")
            return item
        async with self.slots:
            try:
                result: ArchiveResult = await run_in_thread(self._archive, item)
            except StoreError as error:
                await run_in_thread(self.spool.add, item)
                self.crawler.stats.inc_value(f"{STATS_PREFIX}/spooled")
                if not self.store_down:
                    self.crawler.spider.logger.error("archive unavailable, spooling: %s", error)
                self.store_down = True
                return item
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/{result.status}")
        return item
