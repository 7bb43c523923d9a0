"""Where a search index refresh reads new documents: the catalog, or the per-day index.

Both give batches `(mark, documents)`: `mark` names what the batch covers, so the index
remembers it and a later refresh with nothing new reads nothing (None: do not remember it).
From the catalog a batch is one site's month, marked by the set of files it is stored in
(a commit or a compaction changes it), texts and all in a few ranged reads; a document the
index has at this version already is not indexed again. Without a catalog a batch is one
day segment, whose texts are one GET each.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import date

from crawler.sites import SITE_NAMES
from pipelines.read.reader import ENTRY_COLUMNS, ArchivedArticle, ArchiveReader
from pipelines.records.day_index import IndexEntry
from pipelines.records.journal import read_segment
from pipelines.records.layout import month_days

LOG = logging.getLogger("newsarchive.search")
Batch = tuple[str | None, list[tuple[IndexEntry, str]]]
# (site, id) -> the version indexed, or None
IndexedVersion = Callable[[IndexEntry], int | None]


def catalog_batches(
    reader: ArchiveReader,
    site: str | None,
    since: date | None,
    until: date | None,
    known: set[str],
    indexed: IndexedVersion,
) -> Iterator[Batch]:
    catalog = reader.catalog
    assert catalog is not None
    for name in [site] if site else SITE_NAMES:
        for month in catalog.partitions(name, since, until):
            files = sorted(catalog.month_files(name, month))
            mark = f"catalog:{name}/{month}:" + hashlib.sha1("\n".join(files).encode()).hexdigest()
            if mark in known:
                continue
            rows = catalog.month_rows(name, month, since, until, [*ENTRY_COLUMNS, "text"])
            documents: list[tuple[IndexEntry, str]] = []
            for row in rows:
                entry = ArchivedArticle.from_row(row, reader.store)
                held = indexed(entry)
                if held is None or held < entry.version:
                    documents.append((entry, row["text"] or ""))
            yield (mark if _whole_month(month, since, until) else None), documents


def day_batches(
    reader: ArchiveReader,
    site: str | None,
    since: date | None,
    until: date | None,
    known: set[str],
    indexed: IndexedVersion,
) -> Iterator[Batch]:
    for key in reader.index_segments(site, since, until):
        if key in known:
            continue
        documents = []
        for line in read_segment(reader.store, key):
            entry = IndexEntry.from_dict(line)
            held = indexed(entry)
            if held is not None and held > entry.version:
                continue
            text = reader.store.get(entry.text_key)
            if text is None:
                continue
            try:
                documents.append((entry, text.decode("utf-8").removesuffix("\n")))
            except UnicodeDecodeError:
                LOG.warning(
                    "%s cannot be read (not UTF-8 text): run `newsarchive verify`", entry.text_key
                )
        yield key, documents


def _whole_month(month: str, since: date | None, until: date | None) -> bool:
    first, last = month_days(month)
    return (since is None or since <= first) and (until is None or until >= last)
