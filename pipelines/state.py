"""What the archive knows about each site's crawling: the one home of per-URL bookkeeping.

Spiders ask this object instead of opening a store: is an id archived, where did the last
finished run get to (its high-water mark), and they tell it what happened to each URL they
fetched. Those fetch outcomes form an append-only log under `state/<site>/log/`: lines are
journaled locally and published as create-only segments (journal.py), so several crawls
writing one S3 archive never lose an update, and a killed crawl's lines are published by the
next one. Later bookkeeping (retries of failed pages, revisits, backfill progress, monitor
findings) adds its outcomes and questions here.

Every key comes from layout.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pipelines.journal import Journal, read_segment
from pipelines.layout import (
    index_key,
    outcome_log_prefix,
    outcome_segment_key,
    run_state_key,
    run_state_prefix,
    segment_day,
)
from pipelines.store import ArchiveStore, StoreOptions, shared_store

JOURNAL_DIR = "state-journal"


def _segment_key(line: dict[str, Any], journal: str) -> str:
    return outcome_segment_key(line["site"], datetime.fromisoformat(line["at"]), journal)


class ArchiveState:
    """The crawl bookkeeping of one archive, for one process."""

    def __init__(self, store: ArchiveStore, spool_dir: str | Path) -> None:
        self.store = store
        self.log = Journal(Path(spool_dir) / JOURNAL_DIR, _segment_key)

    @classmethod
    def of(cls, options: StoreOptions) -> ArchiveState:
        """The state of the archive the settings name (sharing the run's store)."""
        return cls(shared_store(options), options.spool_dir)

    def is_archived(self, site: str, article_id: str) -> bool:
        """Whether the id has a stored record (one cheap request)."""
        return self.store.exists(index_key(site, article_id))

    def last_high_water(self, site: str) -> datetime | None:
        """The newest publication time the last finished discovery run of the site saw."""
        keys = list(self.store.list(run_state_prefix(site)))
        if not keys:
            return None
        state = json.loads(self.store.get(max(keys)) or b"{}")
        mark = state.get("high_water")
        return datetime.fromisoformat(mark) if mark else None

    def record_run(self, site: str, high_water: datetime, ended: datetime | None = None) -> None:
        """A finished discovery run: the next one starts from its high-water mark."""
        ended = ended or datetime.now(UTC)
        state = {"high_water": high_water.isoformat(), "ended": ended.isoformat()}
        body = json.dumps(state).encode()
        self.store.put_if_absent(run_state_key(site, ended), body, "application/json")

    def record_outcome(
        self,
        site: str,
        url: str,
        outcome: str,
        page_id: str | None = None,
        detail: str = "",
        at: datetime | None = None,
    ) -> None:
        """One fetched URL and what became of it (parsed, or the reason it gave no article)."""
        line = {
            "site": site,
            "url": url,
            "id": page_id,
            "outcome": outcome,
            "detail": detail[:300],
            "at": (at or datetime.now(UTC)).isoformat(),
        }
        self.log.add(line, self.store)

    def flush(self) -> int:
        """Publish the journaled outcomes (this process's and any a dead one left)."""
        return self.log.flush(self.store)

    def outcomes(
        self, site: str, since: date | None = None, until: date | None = None
    ) -> Iterator[dict[str, Any]]:
        """The published outcome lines of a site, oldest segment day first (UTC days)."""
        for key in self.store.list(outcome_log_prefix(site)):
            day = segment_day(key)
            if day is None or (since and day < since) or (until and day > until):
                continue
            yield from read_segment(self.store, key)
