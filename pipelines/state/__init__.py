"""What the archive knows about each site's crawling: the one home of per-URL bookkeeping.

Spiders ask this object instead of opening a store: is an id archived, where did the last
finished run get to (its high-water mark), and they tell it what happened to each URL they
fetched. Those fetch outcomes form an append-only log under `state/<site>/log/`: lines are
journaled locally and published as create-only segments (journal.py), so several crawls
writing one S3 archive never lose an update, and a killed crawl's lines are published by the
next one. Later bookkeeping (retries of failed pages, revisits, backfill progress, monitor
findings) adds its outcomes and questions here.

Every key comes from records/layout.py. The package builds on the store and the records; it
imports nothing of the read side, WARC or the item pipeline (spiders import it, so it stays
light: no Scrapy, no parser).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.records.journal import Journal, read_segment, segments
from pipelines.records.layout import (
    index_key,
    outcome_log_prefix,
    outcome_segment_key,
    run_state_key,
    run_state_prefix,
    segment_day,
)
from pipelines.state.revisits import RevisitDue, RevisitPolicy, due_revisits
from pipelines.store import ArchiveStore, StoreError, StoreOptions, shared_store

JOURNAL_DIR = "state-journal"
# How far back the outcome log is read to say "new" of a listed id without a request (the
# sites' listings reach back two days; a backfill's older listing times get a HEAD).
LISTED_LOOKBACK = timedelta(days=14)
# A listing time may be a little later than the fetch that archived the article (an edit's
# time): "new" is only said of ids listed this long after the start of the log read.
LISTED_MARGIN = timedelta(days=2)


@dataclass(frozen=True)
class ArchivedIds:
    """The ids the outcome log says were fetched into an article, and from when it says
    so completely (None: its whole length was read)."""

    ids: frozenset[str]
    reach: datetime | None

    def covers(self, listed: datetime | None) -> bool:
        """Whether the log's silence about an id listed at `listed` means it is new."""
        if self.reach is None:
            return True  # the whole log: any listing time, or none
        return listed is not None and listed >= self.reach + LISTED_MARGIN


def _segment_key(line: dict[str, Any], journal: str) -> str:
    return outcome_segment_key(line["site"], datetime.fromisoformat(line["at"]), journal)


class ArchiveState:
    """The crawl bookkeeping of one archive, for one process."""

    def __init__(self, store: ArchiveStore, spool_dir: str | Path) -> None:
        self.store = store
        self.log = Journal(Path(spool_dir) / JOURNAL_DIR, segments(_segment_key))
        self.unreachable = False
        self._known: dict[str, ArchivedIds] = {}  # per site, read once per run
        self._known_lock = threading.Lock()

    @classmethod
    def of(cls, options: StoreOptions) -> ArchiveState:
        """The state of the archive the settings name (sharing the run's store)."""
        return cls(shared_store(options), options.spool_dir)

    def is_archived(self, site: str, article_id: str) -> bool:
        """Whether the id has a stored record (one cheap request)."""
        return self.store.exists(index_key(site, article_id))

    def archived_or_unknown(self, site: str, article_id: str) -> bool | None:
        """Like is_archived, but None when the archive cannot answer (it is down): the
        caller fetches anyway; the write spools and exactly-once writes prevent a copy."""
        if self.unreachable:
            return None  # once down, not asked again this run (each ask waits out retries)
        try:
            return self.is_archived(site, article_id)
        except StoreError:
            self.unreachable = True
            return None

    def archived_as_listed(
        self, site: str, article_id: str, listed: datetime | None, archiving: frozenset[str]
    ) -> bool | None:
        """Whether a listed article is archived, without a request for a new one.

        The outcome log says which ids were fetched into an article (`archiving`: outcome
        names) over the last LISTED_LOOKBACK; it is read once per run. An id it names is
        confirmed with one HEAD, as before (a line is written before the article is stored).
        An id it does not name, listed within the log's reach, is new: no request at all.
        Outside that reach (an old listing time, a log that reaches back less than the
        archive), or without a listing time when only part of the log was read, one HEAD.
        A wrong "new" costs a fetch whose create-only writes find the article unchanged;
        "archived" is never wrong. None: the archive cannot say (it is down)."""
        if self.unreachable:
            return None
        try:
            known = self._archived_ids(site, archiving)
        except StoreError:
            self.unreachable = True
            return None
        if article_id in known.ids or not known.covers(listed):
            return self.archived_or_unknown(site, article_id)
        return False

    def _archived_ids(self, site: str, archiving: frozenset[str]) -> ArchivedIds:
        with self._known_lock:  # the spider asks from several threads: one read per run
            known = self._known.get(site)
            if known is None:
                known = self._read_archived_ids(site, archiving)
                self._known[site] = known
        return known

    def _read_archived_ids(self, site: str, archiving: frozenset[str]) -> ArchivedIds:
        since = datetime.now(UTC).date() - LISTED_LOOKBACK
        oldest = next(iter(self.store.list(outcome_log_prefix(site))), None)
        first_day = segment_day(oldest) if oldest else None
        whole = first_day is None or first_day >= since  # the log begins inside the window
        ids = {
            str(line["id"])
            for line in self.outcomes(site, since)
            if line.get("outcome") in archiving and line.get("id")
        }
        reach = None if whole else datetime.combine(since, datetime.min.time(), UTC)
        return ArchivedIds(frozenset(ids), reach)

    def latest_capture(self, site: str, article_id: str) -> dict[str, Any] | None:
        """The WARC capture of an archived article (its first record's), for a fetch of it
        again to be written as a revisit when nothing changed; None when there is none, or
        the archive cannot say."""
        if self.unreachable:
            return None
        try:
            marker = self.store.get(index_key(site, article_id))
            if marker is None:
                return None
            record = self.store.get(json.loads(marker)["record_key"])
        except StoreError:
            self.unreachable = True
            return None
        except (ValueError, KeyError):
            return None
        if record is None:
            return None
        capture: dict[str, Any] | None = json.loads(record).get("warc")
        return capture

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
        extra: dict[str, Any] | None = None,
    ) -> None:
        """One fetched URL and what became of it (parsed, or the reason it gave no article).
        `extra` is the revisit bookkeeping: publication time, validators, capture, and on a
        revisit `revisit: true` and the schedule's `start` (pipelines/state/revisits.py)."""
        line = {
            **(extra or {}),
            "site": site,
            "url": url,
            "id": page_id,
            "outcome": outcome,
            "detail": detail[:300],
            "at": (at or datetime.now(UTC)).isoformat(),
        }
        self.log.add(line, self.store)

    def record_finding(
        self, site: str, name: str, level: str, detail: str, run: str, at: datetime | None = None
    ) -> None:
        """A monitor's finding about a run of the site (crawler/health/monitors.py): a log line with
        no URL, so the retry ledger and the revisit schedule pass it by."""
        line = {
            "site": site,
            "url": None,
            "id": None,
            "outcome": "finding",
            "finding": name,
            "level": level,
            "detail": detail[:300],
            "run": run,
            "at": (at or datetime.now(UTC)).isoformat(),
        }
        self.log.add(line, self.store)

    def findings(self, site: str, since: date | None = None) -> Iterator[dict[str, Any]]:
        """The monitors' findings about a site's runs, oldest first."""
        return (line for line in self.outcomes(site, since) if line.get("outcome") == "finding")

    def flush(self) -> int:
        """Publish the journaled outcomes (this process's and any a dead one left)."""
        return self.log.flush(self.store)

    def outcomes(
        self, site: str, since: date | None = None, until: date | None = None
    ) -> Iterator[dict[str, Any]]:
        """The published outcome lines of a site, oldest segment day first (UTC days)."""
        for key in self._segments(site, since, until):
            yield from read_segment(self.store, key)

    def _segments(self, site: str, since: date | None, until: date | None) -> list[str]:
        """Segment keys of the days asked for, listing only the months that hold them."""
        keys: Iterable[str]
        if since is None:
            keys = self.store.list(outcome_log_prefix(site))
        else:
            last = until or datetime.now(UTC).date()
            months = sorted({(d.year, d.month) for d in _days(since, last)})
            keys = [k for y, m in months for k in self.store.list(outcome_log_prefix(site, y, m))]
        chosen = []
        for key in sorted(keys):
            day = segment_day(key)
            if day is None or (since and day < since) or (until and day > until):
                continue
            chosen.append(key)
        return chosen

    def revisits_due(
        self, site: str, policy: RevisitPolicy, now: datetime | None = None
    ) -> list[RevisitDue]:
        """The archived articles of a site owed a revisit now (pipelines/state/revisits.py), read
        from the outcome log of the policy's window."""
        now = now or datetime.now(UTC)
        since = (now - policy.window()).date()
        lines = (
            line
            for key in self._segments(site, since, now.date())
            for line in read_segment(self.store, key)
        )
        return due_revisits(lines, policy, now)

    def retry_ledger(self, site: str, policy: RetryPolicy, now: datetime | None = None) -> Ledger:
        """The failed pages of a site still owed a fetch: due now, waiting out their backoff,
        or out of attempts (the caller records those as given up).

        A URL's attempts are its retryable failures (crawler/outcomes.py) since its last other
        outcome; any other outcome (parsed, gone, gave up, ...) settles it. Lines are read one
        UTC day at a time, so memory holds one day of the log, not the lookback.
        """
        now = now or datetime.now(UTC)
        since = (now - timedelta(days=policy.lookback_days)).date()
        owed: dict[str, RetryDue] = {}
        day_lines: list[dict[str, Any]] = []
        current: date | None = None
        for key in self._segments(site, since, now.date()):
            day = segment_day(key)
            if day != current:
                _settle(owed, day_lines, policy.retried)
                day_lines, current = [], day
            day_lines += read_segment(self.store, key)
        _settle(owed, day_lines, policy.retried)
        ledger = Ledger()
        for due in owed.values():
            if due.attempts >= policy.max_attempts:
                ledger.exhausted.append(due)
            elif now >= due.last_at + policy.backoff(due.attempts):
                ledger.due.append(due)
            else:
                ledger.waiting.append(due)
        return ledger


@dataclass(frozen=True)
class RetryPolicy:
    """`[retry]` as the ledger needs it, and which outcomes are retried (the outcome table's
    say, handed in: pipelines/ does not import the crawler)."""

    max_attempts: int
    backoff_minutes: float
    lookback_days: int
    retried: frozenset[str]

    def backoff(self, attempts: int) -> timedelta:
        """How long after its last failure a URL that failed `attempts` times is due again."""
        return timedelta(minutes=self.backoff_minutes * 2 ** max(attempts - 1, 0))


@dataclass(frozen=True)
class RetryDue:
    url: str
    page_id: str | None
    attempts: int
    last_outcome: str
    last_at: datetime


@dataclass
class Ledger:
    due: list[RetryDue] = field(default_factory=list)
    waiting: list[RetryDue] = field(default_factory=list)
    exhausted: list[RetryDue] = field(default_factory=list)


def _settle(
    owed: dict[str, RetryDue], lines: list[dict[str, Any]], retried: frozenset[str]
) -> None:
    """Apply one day's outcome lines, in time order, to what is owed."""
    for line in sorted(lines, key=lambda entry: str(entry.get("at", ""))):
        key = line.get("id") or line.get("url")
        if not key or line.get("revisit"):
            continue  # a revisit that failed stays owed by the revisit schedule, not retried
        if line.get("outcome") not in retried:
            owed.pop(key, None)
            continue
        before = owed.get(key)
        owed[key] = RetryDue(
            url=line["url"],
            page_id=line.get("id"),
            attempts=(before.attempts if before else 0) + 1,
            last_outcome=line["outcome"],
            last_at=datetime.fromisoformat(line["at"]),
        )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
