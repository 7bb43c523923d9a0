"""Per-day index segments: what lets a reader list a month without reading every record.

Every archived article version gets one line (id, title, publication time, tickers, keys) in a
segment object `daily/<site>/<YYYY>/<MM>/<DD>/<segment>.jsonl`, filed under the article's
publication day (Beijing time, like its record). The store is create-only, so segments are
never appended to: a run collects lines and publishes them in segments of at most
`SEGMENT_LINES`, and a reader lists one month's prefix (one LIST request per 1,000 segments)
and reads its segments (one GET each), instead of one GET per article.

Lines are journaled to a local file as they come (under the spool folder) before they are
published, so a crawl killed half way loses none: the next run publishes what it finds there.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.items import ArticleItem
from pipelines.archiver import ArchiveResult, content_sha256
from pipelines.layout import article_keys, day
from pipelines.store import ArchiveStore, StoreError

SEGMENT_LINES = 1000
JOURNAL_DIR = "daily-journal"


def daily_prefix(site: str, year: int | None = None, month: int | None = None) -> str:
    """`daily/<site>/` or the prefix of one month of it."""
    if year is None:
        return f"daily/{site}/"
    if month is None:
        return f"daily/{site}/{year:04d}/"
    return f"daily/{site}/{year:04d}/{month:02d}/"


def entry_for(item: ArticleItem, result: ArchiveResult) -> dict[str, Any]:
    """The index line of one archived version: enough to list and filter without the record."""
    article = item.article
    keys = article_keys(article.site, article.id, article.published, result.version)
    return {
        "site": article.site,
        "id": article.id,
        "version": result.version,
        "published": article.published.isoformat(),
        "title": article.title,
        "language": article.language,
        "url": article.url,
        "outlet": article.outlet,
        "tickers": list(article.tickers),
        "parser": article.parser,
        "parser_version": article.parser_version,
        "content_sha256": content_sha256(article.text),
        "record_key": keys.record,
        "text_key": keys.text,
        "raw_key": keys.raw,
    }


class DailyIndex:
    """Collects index lines of one process and publishes them as segments."""

    def __init__(self, spool_dir: str | Path) -> None:
        self.directory = Path(spool_dir) / JOURNAL_DIR
        self.token = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.sequence = 0
        self.lines = 0
        self.lock = threading.Lock()

    def _journal(self) -> Path:
        return self.directory / f"{self.token}-{self.sequence:05d}.jsonl"

    def add(self, entry: dict[str, Any], store: ArchiveStore) -> None:
        """Journal one line; publish the journal once it holds a full segment."""
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        with self.lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._journal().open("a", encoding="utf-8") as handle:
                handle.write(line)
            self.lines += 1
            if self.lines < SEGMENT_LINES:
                return
            full, self.sequence, self.lines = self._journal(), self.sequence + 1, 0
        publish_journal(full, store)

    def add_article(self, store: ArchiveStore, item: ArticleItem, result: ArchiveResult) -> None:
        """archive_article's `on_stored` hook (bind store and item with functools.partial)."""
        self.add(entry_for(item, result), store)

    def flush(self, store: ArchiveStore) -> int:
        """Publish this run's journals and any a dead process left; never a live run's."""
        with self.lock:
            self.sequence, self.lines = self.sequence + 1, 0
        published = 0
        if not self.directory.is_dir():
            return 0
        for path in sorted(self.directory.glob("*.jsonl")):
            owner = path.stem.rsplit("-", 1)[0]
            if owner == self.token or not _process_alive(owner):
                published += publish_journal(path, store)
        return published


def _process_alive(token: str) -> bool:
    """Whether the process that named a journal `<stamp>-<pid>-<tag>` is still running."""
    try:
        pid = int(token.split("-")[1])
        os.kill(pid, 0)
    except (IndexError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def publish_journal(path: Path, store: ArchiveStore) -> int:
    """Write one journal as segments (one per site and day), then delete it.

    Segment keys derive from the journal's name, so publishing the same journal twice (two
    flushes racing, or a retry after an outage) finds its segments already there.
    A StoreError leaves the journal for the next flush.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0  # another flush published it
    groups: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash; its article is still in the index/
        published = datetime.fromisoformat(entry["published"])
        groups[day(entry["site"], published)].append(line)
    try:
        for site_day, lines in sorted(groups.items()):
            key = f"daily/{site_day}/{path.stem}.jsonl"
            body = ("\n".join(lines) + "\n").encode("utf-8")
            store.put_if_absent(key, body, "application/x-ndjson")
    except StoreError:
        return 0
    path.unlink(missing_ok=True)
    return sum(len(lines) for lines in groups.values())


def read_segment(store: ArchiveStore, key: str) -> Iterator[dict[str, Any]]:
    """The lines of one published segment."""
    body = store.get(key) or b""
    for line in body.decode("utf-8").splitlines():
        if line.strip():
            yield json.loads(line)
