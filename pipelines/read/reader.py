"""Reading the archive back: the Python API behind `newsarchive ls/show/export/reparse`.

    from pipelines.read.reader import open_archive

    archive = open_archive("s3://news-archive/prod", endpoint_url="http://127.0.0.1:8333")
    for entry in archive.articles(since=date(2026, 11, 1), ticker="BABA.US")  # site=... for one:
        print(entry.published, entry.title)
        record = entry.record()        # the full JSON record (text, provenance, ...)
        text = entry.text()            # the clean text
        page = entry.raw()             # the page exactly as served (bytes)

`open_archive` takes a local folder or `s3://bucket/prefix` (credentials from the standard AWS
variables or `profile=`). Listing reads the catalog (pipelines/catalog: a few ranged reads per
site and month, never one request per article); an archive made before the catalog, until
`newsarchive catalog rebuild` gives it one, is listed from the per-day index segments (one
GET per segment). `entry.record()` needs no request when the catalog listed it with its
record (`with_record=True`), one GET otherwise; `.text()` is one GET; `.raw()` one more (a
ranged read of the WARC file that captured the page, or its `raw/` object).
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from crawler.items import BEIJING
from crawler.sites import SITE_NAMES
from pipelines.catalog.table import Catalog
from pipelines.read.parallel import In, Out, ordered_map
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

LOG = logging.getLogger("newsarchive.read")
# The catalog columns an index entry is made of (the record itself is one more, on request).
ENTRY_COLUMNS = tuple(f.name for f in fields(IndexEntry))


@dataclass(frozen=True)
class ArchivedArticle(IndexEntry):
    """One article as the per-day index lists it (its newest version in the range read)."""

    store: ArchiveStore = field(repr=False, compare=False, kw_only=True)
    # The record as the catalog holds it, when it was listed with it (no GET to read it).
    stored_record: dict[str, Any] | None = field(
        default=None, repr=False, compare=False, kw_only=True
    )

    @classmethod
    def from_entry(cls, entry: dict[str, Any], store: ArchiveStore) -> ArchivedArticle:
        line = IndexEntry.from_dict(entry)
        return cls(**{f.name: getattr(line, f.name) for f in fields(IndexEntry)}, store=store)

    @classmethod
    def from_row(cls, row: dict[str, Any], store: ArchiveStore) -> ArchivedArticle:
        """One catalog row (its ENTRY_COLUMNS, and `record` when it was read)."""
        values: dict[str, Any] = {name: row.get(name) for name in ENTRY_COLUMNS}
        values["published"] = row["published"].astimezone(BEIJING)
        values["tickers"] = tuple(row.get("tickers") or ())
        record = json.loads(row["record"]) if row.get("record") else None
        return cls(**values, store=store, stored_record=record)

    def record(self) -> dict[str, Any]:
        if self.stored_record is not None:
            return dict(self.stored_record)
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

    def __init__(self, store: ArchiveStore, read_concurrency: int = 64) -> None:
        self.store = store
        self.read_concurrency = read_concurrency  # requests in flight, for every-object readers
        # One budget for all of this reader's parallel reads, however they nest.
        self._slots = threading.BoundedSemaphore(read_concurrency)

    def each(
        self, fn: Callable[[In], Out], items: Iterable[In], concurrency: int | None = None
    ) -> Iterator[Out]:
        """fn over items with up to `read_concurrency` calls in flight (all of this reader's
        parallel reads together), results in the order of items (read/parallel.py)."""

        def within_budget(item: In) -> Out:
            with self._slots:
                return fn(item)

        limit = min(concurrency or self.read_concurrency, self.read_concurrency)
        return ordered_map(within_budget, items, limit)

    @functools.cached_property
    def catalog(self) -> Catalog | None:
        """The archive's catalog as it is now, or None when it has none yet."""
        catalog = Catalog.of(self.store)
        return catalog if catalog.snapshot() is not None else None

    def articles(
        self,
        site: str | None = None,
        since: date | None = None,
        until: date | None = None,
        ticker: str | None = None,
        with_record: bool = False,
    ) -> Iterator[ArchivedArticle]:
        """Articles published from `since` to `until` (inclusive, Beijing dates), oldest first,
        newest version of each; `ticker` like "BABA.US" keeps articles that mention it.
        `with_record`: each with its record read from the catalog (`entry.record()` is free)."""
        if self.catalog is not None:
            for rows in self._catalog_rows(site, since, until, with_record):
                newest: dict[str, dict[str, Any]] = {}
                for row in rows:
                    held = newest.get(row["id"])
                    if held is None or row["version"] > held["version"]:
                        newest[row["id"]] = row
                for row in sorted(newest.values(), key=lambda r: (r["published"], r["id"])):
                    article = ArchivedArticle.from_row(row, self.store)
                    if ticker is None or ticker.upper() in (t.upper() for t in article.tickers):
                        yield article
            return
        yield from self._listed_articles(site, since, until, ticker)

    def _catalog_rows(
        self, site: str | None, since: date | None, until: date | None, with_record: bool
    ) -> Iterator[list[dict[str, Any]]]:
        """The catalog's rows of the range, one site and month at a time."""
        assert self.catalog is not None
        columns = [*ENTRY_COLUMNS, *(["record"] if with_record else [])]
        for name in [site] if site else SITE_NAMES:
            yield from self.catalog.rows(name, since, until, columns)

    def _listed_articles(
        self, site: str | None, since: date | None, until: date | None, ticker: str | None
    ) -> Iterator[ArchivedArticle]:
        """articles() of an archive without a catalog: from its per-day index segments."""
        warned = False
        for name in [site] if site else SITE_NAMES:
            newest: dict[str, dict[str, Any]] = {}
            for key in self._segment_keys(name, since, until):
                if not warned:
                    LOG.warning(NO_CATALOG, self.store.location)
                    warned = True
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
        self,
        site: str | None = None,
        since: date | None = None,
        until: date | None = None,
        with_record: bool = False,
    ) -> Iterator[IndexEntry]:
        """Every stored version of the range, not only the newest (from the catalog, oldest
        first; without one, from the per-day index lines)."""
        if self.catalog is not None:
            for rows in self._catalog_rows(site, since, until, with_record):
                rows.sort(key=lambda r: (r["published"], r["id"], r["version"]))
                for row in rows:
                    yield ArchivedArticle.from_row(row, self.store)
            return
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
            for key in self.keys_by_day(warc_prefix, name, since, until):
                if is_warc_key(key):
                    yield key

    def _segment_keys(self, site: str, since: date | None, until: date | None) -> Iterator[str]:
        """Per-day index segment keys of the days in range."""
        return self.keys_by_day(daily_prefix, site, since, until)

    def keys_by_day(
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
            for key in self.keys_by_day(rejected_prefix, name, since, until):
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
    settings = StoreOptions(location=location, **options)
    return ArchiveReader(open_store(settings), settings.read_concurrency)


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


NO_CATALOG = (
    "%s has no catalog yet: listing it from the per-day index, one request per day; "
    "`newsarchive catalog rebuild` gives it one"
)


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
