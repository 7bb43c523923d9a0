"""`verify`'s check of the catalog against the records it re-read: every record has exactly
one catalog row, no row names a record that is not there, and each row's `record_sha256` is
the record's.

Fed the records in the audit's order (a site's days, oldest first), it compares one site and
month at a time with that partition's rows, so memory holds one month's keys whatever the
archive's size. Findings are keyed `catalog/<record key>`: what to fix is the catalog (by
`newsarchive catalog rebuild` of that month), never the record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from pipelines.catalog.table import Catalog
from pipelines.records.layout import CATALOG_ROOT, segment_day

# (key, problem, detail): how a finding is reported (fixity.Audit.found)
Report = Callable[[str, str, str], None]
MONTH_COLUMNS = ("record_key", "record_sha256")
NO_CATALOG = "no catalog: run `newsarchive catalog rebuild`"


class CatalogAudit:
    """Compares the records an audit read with the catalog rows of their months."""

    def __init__(
        self, catalog: Catalog | None, since: date | None, until: date | None, report: Report
    ) -> None:
        self.catalog = catalog
        self.since, self.until = since, until
        self.report = report
        self.month: tuple[str, str] | None = None  # (site, YYYY-MM) being gathered
        self.records: dict[str, str | None] = {}  # record key -> its sha256 (None: unread)
        self.done: set[tuple[str, str]] = set()
        self.rows_checked = 0

    def add(self, site: str, record_key: str, sha256: str | None) -> None:
        day = segment_day(record_key)
        if day is None or self.catalog is None:
            return
        month = (site, f"{day:%Y-%m}")
        if month != self.month:
            self._compare()
            self.month = month
        self.records[record_key] = sha256

    def finish(self, sites: list[str]) -> None:
        """Compare the last month, then the months the catalog has and no record is in."""
        self._compare()
        if self.catalog is None:
            if self.done or sites:
                self.report(
                    f"{CATALOG_ROOT}/", "missing", "no catalog: run `newsarchive catalog rebuild`"
                )
            return
        for site in sites:
            for month in self.catalog.partitions(site, self.since, self.until):
                if (site, month) not in self.done:
                    self.month = (site, month)
                    self._compare()

    def _compare(self) -> None:
        if self.month is None or self.catalog is None:
            return
        site, month = self.month
        self.done.add(self.month)
        rows = self._rows(site, month)
        counts = Counter(row["record_key"] for row in rows)
        for row in rows:
            key = row["record_key"]
            where = f"{CATALOG_ROOT}/{key}"
            if key not in self.records:
                self.report(where, "extra", "a catalog row of a record that is not there")
            elif counts[key] > 1:
                self.report(where, "corrupted", f"{counts[key]} catalog rows of one record")
            elif self.records[key] and row["record_sha256"] != self.records[key]:
                self.report(where, "corrupted", "the catalog row's record_sha256 differs")
        for key in self.records:
            if key not in counts:
                self.report(f"{CATALOG_ROOT}/{key}", "missing", "no catalog row of this record")
        self.rows_checked += len(rows)
        self.month, self.records = None, {}

    def _rows(self, site: str, month: str) -> list[dict[str, Any]]:
        assert self.catalog is not None
        return self.catalog.month_rows(site, month, self.since, self.until, MONTH_COLUMNS)
