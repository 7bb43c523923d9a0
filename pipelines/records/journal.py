"""Append-only logs on a create-only archive: lines journaled locally, published in segments.

The archive never appends to an object, so a log there is a set of segment objects. A process
appends each line to a local journal file as it comes (a crawl killed half way loses none),
and publishes the journal as segments, at most `SEGMENT_LINES` lines each, one segment per
key the lines map to (a site and a day). Segment keys derive from the journal's name, so
publishing the same journal twice (two flushes racing, a retry after an outage) finds its
segments already there. Journals a dead process left are published by the next one.

Where the lines go is the journal's sink: segment objects (`segments`, for the per-day index
in day_index.py and the fetch-outcome log in state.py), or one commit to the catalog table
(pipelines/catalog/journal.py). A journal is published under an exclusive lock on its file,
so two processes flushing a dead one's journals never publish one twice.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pipelines.store import ArchiveStore, StoreError
from pipelines.store.files import process_alive

SEGMENT_LINES = 1000
LOG = logging.getLogger("newsarchive.journal")
# (entry, journal name) -> the key of the segment that line belongs in
SegmentKey = Callable[[dict[str, Any], str], str]
# (journal name, its entries, their lines as journaled, store): publish them all, or raise
# StoreError to leave the journal for a later flush
Sink = Callable[[str, list[dict[str, Any]], list[str], ArchiveStore], None]


def segments(segment_key: SegmentKey) -> Sink:
    """The sink that writes a journal as create-only segment objects, one per key its lines
    map to (keys derive from the journal's name: publishing it twice finds them there)."""

    def publish(name: str, entries: list[dict[str, Any]], lines: list[str], store: ArchiveStore):
        groups: dict[str, list[str]] = defaultdict(list)
        for entry, line in zip(entries, lines, strict=True):
            groups[segment_key(entry, name)].append(line)
        for key, group in sorted(groups.items()):
            body = ("\n".join(group) + "\n").encode("utf-8")
            store.put_if_absent(key, body, "application/x-ndjson")

    return publish


class Journal:
    """Collects the lines of one process and publishes them as segments."""

    def __init__(self, directory: str | Path, sink: Sink) -> None:
        self.directory = Path(directory)
        self.sink = sink
        self.token = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.sequence = 0
        self.lines = 0
        self.lock = threading.Lock()
        self._handle: TextIO | None = None

    def _journal(self) -> Path:
        return self.directory / f"{self.token}-{self.sequence:05d}.jsonl"

    def add(self, entry: dict[str, Any], store: ArchiveStore) -> None:
        """Journal one line; publish the journal once it holds a full segment. Each line
        reaches the OS before this returns (a killed process loses none); the journal file
        stays open between lines, since opening it per line cost more than the crawl's
        parsing of the page on a slow disk."""
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        with self.lock:
            if self._handle is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._handle = self._journal().open("a", encoding="utf-8")
            self._handle.write(line)
            self._handle.flush()
            self.lines += 1
            if self.lines < SEGMENT_LINES:
                return
            full = self._journal()
            self._next_journal()
        self.publish(full, store)

    def close(self) -> None:
        """Close the open journal file (its lines stay for the next flush)."""
        with self.lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.close()

    def _next_journal(self) -> None:
        """Close the current journal file: later lines go to the next one."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self.sequence, self.lines = self.sequence + 1, 0

    def flush(self, store: ArchiveStore) -> int:
        """Publish this process's journals and any a dead process left; never a live one's."""
        with self.lock:
            self._next_journal()
        published = 0
        if not self.directory.is_dir():
            return 0
        for path in sorted(self.directory.glob("*.jsonl")):
            owner = path.stem.rsplit("-", 1)[0]
            if owner == self.token or not _process_alive(owner):
                published += self.publish(path, store)
        return published

    def publish(self, path: Path, store: ArchiveStore) -> int:
        """Hand one journal to the sink, then delete it; a StoreError leaves it for later."""
        try:
            handle = path.open("r", encoding="utf-8")
        except FileNotFoundError:
            return 0  # another flush published it
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0  # another process is publishing it now
            if not path.exists():
                return 0  # published while this process waited for the lock
            entries, lines = [], []
            for line in handle.read().splitlines():
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash (its owner repairs what it stood for)
                entries.append(entry)
                lines.append(line)
            try:
                self.sink(path.stem, entries, lines, store)
            except StoreError:
                return 0
            path.unlink(missing_ok=True)
        return len(lines)


def read_segment(store: ArchiveStore, key: str) -> list[dict[str, Any]]:
    """The lines of one published segment. A damaged line (a disk error, a hand edit) is
    skipped with a warning naming it: one bad line must not hide the rest of the log."""
    lines, damaged = segment_lines(store.get(key) or b"")
    for number in damaged:
        LOG.warning("%s line %d is not a JSON object: skipped", key, number)
    return lines


def segment_lines(body: bytes) -> tuple[list[dict[str, Any]], list[int]]:
    """A segment's JSON lines, and the numbers of the lines that are not JSON objects."""
    lines, damaged = [], []
    for number, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            damaged.append(number)
            continue
        lines.append(entry)
    return lines, damaged


def _process_alive(token: str) -> bool:
    """Whether the process that named a journal `<stamp>-<pid>-<tag>` is still running."""
    try:
        return process_alive(int(token.split("-")[1]))
    except (IndexError, ValueError):
        return False
