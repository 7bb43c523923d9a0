"""The Scrapy item pipeline that archives items through the shared store: Scrapy glue only.

Store I/O runs in threads (`run_in_thread`), at most `archive.upload_concurrency` at once,
so a slow bucket never blocks the reactor. When the store fails (after botocore's retries)
the item goes to the local spool instead of being dropped; the spool is flushed when the
next crawl opens, and the crawl's stats say how many items are still pending.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import deferred_from_coro

from crawler.items import ArticleItem, RejectedItem, RemovedItem, feed_row
from crawler.stats import COVERAGE_FIELDS, Stat
from pipelines import warc
from pipelines.catalog.indexes import ArchiveIndexes
from pipelines.records.writer import ArchiveResult, archive_item
from pipelines.spool import Spool
from pipelines.store import (
    ArchiveStore,
    StoreError,
    StoreOptions,
    StoreUnavailable,
    check_store,
    shared_store,
)

# The setting that carries the archive's StoreOptions (set by crawler.addon from the config).
ARCHIVE_SETTING = "NEWSARCHIVE_ARCHIVE"
# The crawler attribute holding its WARC recorder (set by middlewares/capture.py): closed here, at
# the end of every run, before its files are stored.
WARC_RECORDER = "newsarchive_warc_recorder"
STORAGE_LOST = "storage_lost"
MAX_INVALID_LISTED = 100  # the close reason when nothing can be written any more
LOG = logging.getLogger("newsarchive.archive")


class ArchivePipeline:
    """Archive ArticleItems (new, new version, or unchanged) and RejectedItems (kept raw)."""

    def __init__(self, store: ArchiveStore, spool: Spool, crawler: Crawler, concurrency: int):
        self.store = store
        self.spool = spool
        self.daily = ArchiveIndexes(spool.directory)
        self.crawler = crawler
        self.slots = asyncio.Semaphore(concurrency)
        self.store_down = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        options: StoreOptions = crawler.settings[ARCHIVE_SETTING]
        store = shared_store(options)
        # Fail before any page is fetched: a wrong bucket or secret is a setup error. An
        # archive that is only down now is not: this run spools.
        store_down = False
        try:
            check_store(store)
        except StoreUnavailable as error:
            LOG.warning("archive unavailable, this run spools: %s", error)
            store_down = True
        pipeline = cls(store, Spool(options.spool_dir), crawler, options.upload_concurrency)
        pipeline.store_down = store_down
        return pipeline

    async def open_spider(self) -> None:
        # WARC files of killed runs: cut at their last complete record, then stored below.
        try:
            recovered = await run_in_thread(warc.recover, self.spool.directory)
        except OSError as error:
            LOG.error("WARC files of killed runs not closed: %s", error.strerror or error)
            recovered = warc.Recovered()
        if recovered.closed:
            LOG.warning(
                "closed %d WARC file(s) a killed run left open (%d bytes of an unfinished "
                "record cut)",
                recovered.closed,
                recovered.cut_bytes,
            )
        if self.store_down:
            return
        try:
            if self.spool.pending():
                indexer = partial(self.daily.add_article, self.store)
                result = await run_in_thread(self.spool.flush, self.store, indexer)
                self.crawler.stats.set_value(Stat.FLUSHED, result.uploaded)
            await run_in_thread(self.daily.flush, self.store)  # lines a killed run journaled
        except StoreError as error:
            LOG.warning("archive unavailable, this run spools: %s", error)
            self.store_down = True

    async def close_spider(self) -> None:
        recorder = getattr(self.crawler, WARC_RECORDER, None)
        if recorder is not None:
            try:
                await run_in_thread(recorder.close)  # every run ends its WARC file
            except OSError as error:  # left in open/: the next run or `flush` closes it
                LOG.error("WARC file not closed: %s", error.strerror or error)
        if not self.store_down:
            try:
                await run_in_thread(self.daily.flush, self.store)
            except StoreError as error:  # journaled: the next run publishes the lines
                LOG.error("per-day index lines not published yet: %s", error)
            stored = await run_in_thread(warc.store_ready, self.store, self.spool.directory)
            self.crawler.stats.set_value(Stat.WARC_STORED, stored.stored)
        # This site's files only: another site's crawler in this process may have closed its
        # file a moment ago and be storing it now.
        site = recorder.site if recorder is not None else None
        pending = len(warc.ready_files(self.spool.directory, site))
        self.crawler.stats.set_value(Stat.WARC_PENDING, pending)
        if pending:
            LOG.warning(
                "%d WARC file(s) wait in %s for `newsarchive flush`", pending, self.spool.directory
            )
        self.crawler.stats.set_value(Stat.PENDING, len(self.spool.pending()))

    def _archive(self, item: ArticleItem | RejectedItem | RemovedItem) -> ArchiveResult:
        """Runs in a worker thread: store the item, then journal its per-day index line."""
        indexer = None
        if isinstance(item, ArticleItem):
            indexer = partial(self.daily.add_article, self.store, item)
        return archive_item(self.store, item, indexer)

    async def process_item(self, item: Any) -> Any:
        """Archive the item; what goes on to Scrapy's feed exports is an article's feed row.
        A page that is no article is archived raw and dropped here (quietly: it is counted
        under its outcome), so it never becomes a feed row."""
        if not isinstance(item, (ArticleItem, RejectedItem, RemovedItem)):
            return item
        if self.store_down:
            # Once the store has failed after botocore's retries, the rest of this run goes
            # straight to the spool instead of waiting out the same retries per item.
            await self._spool(item)
            return _delivered(item, None)
        async with self.slots:
            try:
                result: ArchiveResult = await run_in_thread(self._archive, item)
            except StoreError as error:
                if not self.store_down:
                    LOG.error("archive unavailable, spooling: %s", error)
                self.store_down = True
                await self._spool(item)
                return _delivered(item, None)
        self._count(item, result)
        return _delivered(item, result)

    def _count(self, item: ArticleItem | RejectedItem | RemovedItem, result: ArchiveResult) -> None:
        stats = self.crawler.stats
        if isinstance(item, RemovedItem):
            if result.status == "removed":
                stats.inc_value(Stat.REVISIT_REMOVED)
            return
        stats.inc_value(Stat.of_archive_status(result.status))
        if isinstance(item, ArticleItem) and result.status in ("archived", "new_version"):
            for name, stat in COVERAGE_FIELDS.items():
                if getattr(item.article, name):
                    stats.inc_value(stat)
        if result.problems:
            stats.inc_value(Stat.INVALID_RECORDS)
            invalid = stats.get_value(Stat.INVALID_LIST) or []
            if len(invalid) < MAX_INVALID_LISTED:
                invalid.append({"key": result.key, "problems": list(result.problems)})
            stats.set_value(Stat.INVALID_LIST, invalid)
            LOG.error(
                "record does not match the schema: %s: %s", result.key, "; ".join(result.problems)
            )
        if isinstance(item, ArticleItem) and item.revisit:
            if item.revisit.get("removed"):
                stats.inc_value(Stat.REVISIT_RETURNED)
            elif result.status == "new_version":
                stats.inc_value(Stat.REVISIT_CHANGED)
            else:
                stats.inc_value(Stat.REVISIT_UNCHANGED)

    async def _spool(self, item: ArticleItem | RejectedItem | RemovedItem) -> None:
        """Keep the item in the spool; if even that fails, count it lost and stop the run at
        once: every further page would be lost the same way."""
        try:
            await run_in_thread(self.spool.add, item)
        except OSError as error:
            self.crawler.stats.inc_value(Stat.LOST)
            if self.crawler.stats.get_value(Stat.CLOSE_REASON) != STORAGE_LOST:
                LOG.critical(
                    "neither the archive nor the spool (%s) can be written: %s; stopping",
                    self.spool.directory,
                    error.strerror or error,
                )
                self.crawler.stats.set_value(Stat.CLOSE_REASON, STORAGE_LOST)
                if self.crawler.engine is not None:
                    deferred_from_coro(self.crawler.engine.close_spider_async(reason=STORAGE_LOST))
            return
        self.crawler.stats.inc_value(Stat.SPOOLED)


def _delivered(
    item: ArticleItem | RejectedItem | RemovedItem, result: ArchiveResult | None
) -> dict[str, Any]:
    if not isinstance(item, ArticleItem):
        raise DropItem(f"kept raw, not an article: {item.page.url}", log_level="DEBUG")
    if result is None:
        return feed_row(item, "spooled", None, None)
    return feed_row(item, result.status, result.key, result.version)
