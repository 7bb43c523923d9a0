"""What lists a stored version: the per-day index (day_index.py) and the catalog.

Every writer of articles (the item pipeline, `flush` of the spool, `reparse`) hands each
version it stores to one ArchiveIndexes, and flushes it when it ends; the two journals
publish on their own (segments, one catalog commit).
"""

from __future__ import annotations

from pathlib import Path

from crawler.items import ArticleItem
from pipelines.catalog.journal import CatalogJournal
from pipelines.records.day_index import DayIndex
from pipelines.records.writer import ArchiveResult
from pipelines.store import ArchiveStore


class ArchiveIndexes:
    """The per-day index lines and catalog rows of one process."""

    def __init__(self, spool_dir: str | Path) -> None:
        self.days = DayIndex(spool_dir)
        self.catalog = CatalogJournal(spool_dir)

    def add_article(self, store: ArchiveStore, item: ArticleItem, result: ArchiveResult) -> None:
        """archive_article's `on_stored` hook (bind store and item with functools.partial).
        A version stored before (a crash cut the run that stored it before its index
        marker) gets its day line again and no second catalog row: its catalog row was
        journaled by that run and is committed from its journal."""
        self.days.add_article(store, item, result)
        self.catalog.add_version(store, result)

    def flush(self, store: ArchiveStore) -> int:
        """Publish this process's lines and rows and those a dead process left; the number
        of day lines published. What cannot be published now waits for the next flush."""
        published = self.days.flush(store)
        self.catalog.flush(store)
        return published
