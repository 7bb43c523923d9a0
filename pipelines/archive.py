"""The Scrapy item pipeline that archives items through the shared store.

Store I/O runs in a thread (`run_in_thread`) so a slow disk or bucket never blocks the
reactor; the store itself has no Scrapy imports and is shared with every reader.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.asyncio import run_in_thread

from crawler.items import ArticleItem, RejectedItem
from pipelines.archiver import ArchiveResult, archive_article, archive_rejected
from pipelines.store import ArchiveStore, open_store

STATS_PREFIX = "newsarchive/archive"


class ArchivePipeline:
    """Archive ArticleItems (new, new version, or unchanged) and RejectedItems (kept raw)."""

    def __init__(self, store: ArchiveStore, crawler: Crawler) -> None:
        self.store = store
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        archive = crawler.settings.getdict("NEWSARCHIVE_ARCHIVE") or {"location": "./archive"}
        return cls(open_store(archive["location"]), crawler)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            result: ArchiveResult = await run_in_thread(archive_article, self.store, item)
        elif isinstance(item, RejectedItem):
            result = await run_in_thread(archive_rejected, self.store, item)
        else:
            return item
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/{result.status}")
        return item
