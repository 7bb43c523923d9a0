"""A run's catalog rows, journaled under the spool and committed to the catalog together.

Each stored version's row is journaled as it is stored (a killed run loses none) and the
journal is committed as one transaction named after it when it is full, when the run ends,
or by the next run or `newsarchive flush` after a kill or an outage (journal.py's rules).
A commit's name is the journal's, so a journal committed just before its owner died is not
committed twice. A version listed again after a crash (its record stored, its index marker
not) is committed only if the catalog does not hold it yet: the crash may have come before
or after its row was journaled.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipelines.catalog.table import Catalog, CatalogError, catalog_row
from pipelines.records.journal import Journal
from pipelines.records.writer import ArchiveResult
from pipelines.store import ArchiveStore

JOURNAL_DIR = "catalog-journal"
LOG = logging.getLogger("newsarchive.catalog")


def commit_journal(
    name: str, entries: list[dict[str, Any]], lines: list[str], store: ArchiveStore
) -> None:
    """The catalog journal's sink: one commit of its rows, once."""
    catalog = Catalog.of(store)
    entries = [e for e in entries if isinstance(e.get("record"), dict) and e.get("record_key")]
    try:
        repaired = [e["record_key"] for e in entries if e.get("repaired")]
        present = catalog.present(repaired) if repaired else set()
        rows = [
            catalog_row(e["record"], e["record_key"], e.get("record_sha256"), e.get("record_size"))
            for e in entries
            if not (e.get("repaired") and e["record_key"] in present)
        ]
        catalog.append_once(name, rows)
    except CatalogError as error:
        LOG.error("catalog rows not committed yet (%d wait in the spool): %s", len(rows), error)
        raise


class CatalogJournal(Journal):
    """The catalog rows of one process."""

    def __init__(self, spool_dir: str | Path) -> None:
        super().__init__(Path(spool_dir) / JOURNAL_DIR, commit_journal)

    def add_version(self, store: ArchiveStore, result: ArchiveResult) -> None:
        """Journal the version a result stored (nothing for one it did not store)."""
        if result.record is None:
            return
        line = {
            "record": result.record,
            "record_key": result.key,
            "record_sha256": result.record_sha256,
            "record_size": result.record_size,
            "repaired": result.repaired,
        }
        self.add(line, store)
