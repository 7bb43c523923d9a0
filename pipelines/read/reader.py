"""Reading the archive back: the Python API behind `newsarchive ls/show/export/reparse`.

    from pipelines.read.reader import open_archive

    archive = open_archive("s3://news-archive/prod", endpoint_url="http://127.0.0.1:8333")
    for entry in archive.articles(since=date(2026, 11, 1), ticker="BABA.US")  # site=... for one:
        print(entry.published, entry.title)
        record = entry.record()        # the full JSON record (text, provenance, ...)
        text = entry.text()            # the clean text
        page = entry.raw()             # the page exactly as served (bytes)

`open_archive` takes a local folder or `s3://bucket/prefix` (credentials from the standard AWS
variables or `profile=`). Listing reads the per-day index segments (records/day_index.py): one
LIST request per site and month in range (per 1,000 segments) plus one GET per segment, never
one request per article. `entry.record()` and `.text()` are one GET each; `.raw()` one more
(a ranged read of the WARC file that captured the page, or its `raw/` object).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from crawler.items import BEIJING
from crawler.sites import SITE_NAMES
from pipelines.records.day_index import IndexEntry
from pipelines.records.journal import read_segment
from pipelines.records.layout import (
    article_keys,
    daily_prefix,
    index_key,
    is_warc_key,
    rejected_prefix,
    removal_event,
    removal_prefix,
    segment_day,
    warc_prefix,
)
from pipelines.store import ArchiveStore, StoreOptions, open_store
from pipelines.warc import CaptureMissing, captured_body


@dataclass(frozen=True)
class ArchivedArticle(IndexEntry):
    """One article as the per-day index lists it (its newest version in the range read)."""

    store: ArchiveStore = field(repr=False, compare=False, kw_only=True)

    @classmethod
    def from_entry(cls, entry: dict[str, Any], store: ArchiveStore) -> ArchivedArticle:
        line = IndexEntry.from_dict(entry)
        return cls(**{f.name: getattr(line, f.name) for f in fields(IndexEntry)}, store=store)

    def record(self) -> dict[str, Any]:
        return read_json(self.store, self.record_key, required=True) or {}

    def text(self) -> str:
        """The clean text, as in the record (text objects before 2026-12 add one newline)."""
        body = _required(self.store, self.text_key)
        try:
            return body.decode("utf-8").removesuffix("\n")
        except UnicodeDecodeError:
            raise UnreadableObject(self.text_key, "not UTF-8 text") from None

    def raw(self) -> bytes:
        """The page as served (the body the parser read)."""
        if self.raw_key:
            return gzip.decompress(_required(self.store, self.raw_key))
        return raw_body(self.store, self.record())


class ArchiveReader:
    """Filters over one archive location."""

    def __init__(self, store: ArchiveStore) -> None:
        self.store = store

    def articles(
        self,
        site: str | None = None,
        since: date | None = None,
        until: date | None = None,
        ticker: str | None = None,
    ) -> Iterator[ArchivedArticle]:
        """Articles published from `since` to `until` (inclusive, Beijing dates), oldest first,
        newest version of each; `ticker` like "BABA.US" keeps articles that mention it."""
        for name in [site] if site else SITE_NAMES:
            newest: dict[str, dict[str, Any]] = {}
            for key in self._segment_keys(name, since, until):
                for entry in read_segment(self.store, key):
                    held = newest.get(entry["id"])
                    if held is None or int(entry["version"]) > int(held["version"]):
                        newest[entry["id"]] = entry
            entries = sorted(newest.values(), key=lambda e: (e["published"], e["id"]))
            for entry in entries:
                article = ArchivedArticle.from_entry(entry, self.store)
                if in_range(article.published, since, until) and (
                    ticker is None or ticker.upper() in (t.upper() for t in article.tickers)
                ):
                    yield article

    def index_segments(
        self, site: str | None = None, since: date | None = None, until: date | None = None
    ) -> Iterator[str]:
        """Keys of the per-day index segments of the range (every site, or one)."""
        for name in [site] if site else SITE_NAMES:
            yield from self._segment_keys(name, since, until)

    def index_entries(
        self, site: str | None = None, since: date | None = None, until: date | None = None
    ) -> Iterator[IndexEntry]:
        """Every per-day index line of the range: every stored version, not only the newest."""
        for key in self.index_segments(site, since, until):
            for line in read_segment(self.store, key):
                entry = IndexEntry.from_dict(line)
                if in_range(entry.published, since, until):
                    yield entry

    def warc_files(
        self, site: str | None = None, since: date | None = None, until: date | None = None
    ) -> Iterator[str]:
        """Keys of the WARC files opened from `since` to `until` (UTC days)."""
        for name in [site] if site else SITE_NAMES:
            for key in self._keys_by_day(warc_prefix, name, since, until):
                if is_warc_key(key):
                    yield key

    def _segment_keys(self, site: str, since: date | None, until: date | None) -> Iterator[str]:
        """Per-day index segment keys of the days in range."""
        return self._keys_by_day(daily_prefix, site, since, until)

    def _keys_by_day(
        self,
        prefix_of: Callable[..., str],
        site: str,
        since: date | None,
        until: date | None,
    ) -> Iterator[str]:
        """Keys filed under the days in range (`<root>/<site>/<YYYY>/<MM>/<DD>/...`): one
        listing per month of the range (the whole prefix when it is open)."""
        if since is None:
            prefixes = [prefix_of(site)]
        else:
            last = until or datetime.now(BEIJING).date()
            prefixes = [prefix_of(site, y, m) for y, m in _months(since, last)]
        for prefix in prefixes:
            for key in self.store.list(prefix):
                day = segment_day(key)
                if day is not None and _in_range_day(day, since, until):
                    yield key

    def rejected(
        self, site: str | None = None, since: date | None = None, until: date | None = None
    ) -> Iterator[dict[str, Any]]:
        """Records of the pages kept raw with their reason, fetched from `since` to `until`
        (UTC fetch days: a rejected page has no trusted publication date)."""
        for name in [site] if site else SITE_NAMES:
            for key in self._keys_by_day(rejected_prefix, name, since, until):
                body = self.store.get(key) if key.endswith(".json") else None
                if body is not None:
                    yield {"key": key, "site": name, **json.loads(body)}

    def removals(self, site: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        """The latest removal marker of each article ever seen gone, by (site, id): its
        `event` says whether it is still removed or has returned. One LIST per site and one
        GET per article with markers (removals are few)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for name in [site] if site else SITE_NAMES:
            latest: dict[str, str] = {}
            for key in self.store.list(removal_prefix(name)):
                parsed = removal_event(key)
                if parsed is not None:
                    latest[parsed[0]] = max(latest.get(parsed[0], ""), key)
            for key in latest.values():
                body = self.store.get(key)
                if body is not None:
                    marker = json.loads(body)
                    found[(name, str(marker.get("id")))] = {**marker, "key": key}
        return found

    def find(self, article_id: str, site: str | None = None) -> list[dict[str, Any]]:
        """Every version's record of one article id, oldest first (empty if unknown)."""
        for name in [site] if site else SITE_NAMES:
            marker = self.store.get(index_key(name, article_id))
            if marker is None:
                continue
            try:
                published = datetime.fromisoformat(json.loads(marker)["published"])
            except (ValueError, KeyError, TypeError):
                raise UnreadableObject(
                    index_key(name, article_id), "damaged index marker"
                ) from None
            records: list[dict[str, Any]] = []
            version = 1
            while True:
                key = article_keys(name, article_id, published, version).record
                record = read_json(self.store, key)
                if record is None:
                    return records
                records.append(record)
                version += 1
        return []


def open_archive(location: str, **options: Any) -> ArchiveReader:
    """A reader over a local folder or `s3://bucket/prefix` (endpoint_url=, profile=, ...)."""
    return ArchiveReader(open_store(StoreOptions(location=location, **options)))


def raw_body(store: ArchiveStore, record: dict[str, Any]) -> bytes:
    """The page as served of an archived record (article or rejected page), whether it was
    captured in a WARC file (records since WARC capture) or kept as a `raw/` object (before).
    CaptureMissing when it cannot be read."""
    if record.get("warc"):
        return captured_body(store, record["warc"])
    raw = store.get(record["raw_key"]) if record.get("raw_key") else None
    if raw is None:
        raise CaptureMissing(f"{record.get('raw_key')} is not in the archive")
    return gzip.decompress(raw)


class UnreadableObject(Exception):
    """A stored object that cannot be read as what it should be (truncated, not JSON): the
    readers name it and go on with the rest; `newsarchive verify` says what else is wrong."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"{key} cannot be read ({why}): run `newsarchive verify`")
        self.key = key


def read_json(store: ArchiveStore, key: str, required: bool = False) -> dict[str, Any] | None:
    """A stored JSON object (None when absent, unless required); UnreadableObject when it is
    there but damaged."""
    body = _required(store, key) if required else store.get(key)
    if body is None:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        raise UnreadableObject(key, "not JSON: truncated or damaged") from None
    if not isinstance(data, dict):
        raise UnreadableObject(key, "not a JSON object")
    return data


def _required(store: ArchiveStore, key: str) -> bytes:
    body = store.get(key)
    if body is None:
        raise FileNotFoundError(f"{key} is not in {store.location}")
    return body


def _months(since: date, until: date) -> Iterator[tuple[int, int]]:
    year, month = since.year, since.month
    while (year, month) <= (until.year, until.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _in_range_day(day: date, since: date | None, until: date | None) -> bool:
    return (since is None or day >= since) and (until is None or day <= until)


def in_range(published: datetime, since: date | None, until: date | None) -> bool:
    return _in_range_day(published.astimezone(BEIJING).date(), since, until)
