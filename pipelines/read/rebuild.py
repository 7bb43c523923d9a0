"""`newsarchive catalog rebuild`: the catalog made again from the records, its source of truth.

For an archive made before the catalog, after a machine's spool was lost, or when `verify`
finds rows missing, extra or differing. The records of each site and month in range are
listed (one LIST per 1,000 records), read with `read_concurrency` GETs in flight, and
replace that month's rows of the range in one commit: a reader sees the month as it was or
as rebuilt, never half of it. A record that cannot be read is named and left out.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crawler.sites import SITE_NAMES
from pipelines.catalog.table import Catalog, catalog_row
from pipelines.read.reader import ArchiveReader
from pipelines.records.layout import month_days, records_prefix, segment_day


@dataclass
class RebuildSummary:
    rows: int = 0
    months: int = 0
    unreadable: list[str] = field(default_factory=list)


def rebuild_catalog(
    reader: ArchiveReader,
    site: str | None = None,
    since: date | None = None,
    until: date | None = None,
    progress: Callable[[int], object] | None = None,
) -> RebuildSummary:
    """Replace the catalog rows of the range by rows read from the records."""
    summary = RebuildSummary()
    catalog = Catalog.of(reader.store)
    for name in [site] if site else SITE_NAMES:
        keys = (k for k in reader.keys_by_day(records_prefix, name, since, until) if _is_record(k))
        rebuilt: set[str] = set()
        for month, month_keys in itertools.groupby(keys, key=_month_of):
            first, last = _clip(month, since, until)
            rows = _rows(reader, month_keys, summary, progress)
            catalog.replace(rows, name, first, last)
            rebuilt.add(month)
            summary.months += 1
        for month in catalog.partitions(name, since, until):
            if month not in rebuilt:  # rows of records that are no longer there
                first, last = _clip(month, since, until)
                catalog.replace(iter(()), name, first, last)
                summary.months += 1
    return summary


def _rows(
    reader: ArchiveReader,
    keys: Iterator[str],
    summary: RebuildSummary,
    progress: Callable[[int], object] | None,
) -> Iterator[dict[str, Any]]:
    def read(key: str) -> tuple[str, bytes | None]:
        return key, reader.store.get(key)

    for key, body in reader.each(read, keys):
        row = _row_of(key, body)
        if row is None:
            summary.unreadable.append(key)
            continue
        summary.rows += 1
        if progress is not None:
            progress(1)
        yield row


def _row_of(key: str, body: bytes | None) -> dict[str, Any] | None:
    if body is None:
        return None
    try:
        record = json.loads(body)
    except ValueError:
        return None
    if not isinstance(record, dict) or not record.get("published"):
        return None
    try:
        return catalog_row(record, key, hashlib.sha256(body).hexdigest(), len(body))
    except (TypeError, ValueError):
        return None


def _is_record(key: str) -> bool:
    return key.endswith(".json") and segment_day(key) is not None


def _month_of(key: str) -> str:
    day = segment_day(key)
    assert day is not None
    return f"{day:%Y-%m}"


def _clip(month: str, since: date | None, until: date | None) -> tuple[date, date]:
    """The days of a month (`YYYY-MM`) that are in the range."""
    first, last = month_days(month)
    return max(first, since) if since else first, min(last, until) if until else last
