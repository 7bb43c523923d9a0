"""Full-text search over the archive: one SQLite FTS5 file, built from the per-day index.

Chinese has no spaces between words, and FTS5's tokenizers cut it wrong: `unicode61` makes a
whole run of Han characters one token (芯片 inside a sentence is never found) and `trigram`
cannot match two-character words (阿里, 芯片), the most common kind. Python's sqlite3 cannot
register a tokenizer of our own, so CJK text is pre-split into overlapping bigrams (阿里巴巴 ->
阿里 里巴 巴巴, plus each run's last character alone) in a column of its own: a two-character
word is one token, a longer word or phrase is a phrase of bigrams, so matches happen where the
characters are adjacent and nowhere else. Bigrams need no dictionary and miss no word, which
a segmenter (jieba) does for words it does not know, like new company names. Latin text goes
to `unicode61` with the Porter stemmer (chips finds chip). Snippets are taken from the
original text: FTS5's own snippet for Latin matches, and the bigram matches marked in the text.

The index is incremental: it remembers which catalog partitions (by the files they are in)
or, without a catalog, which per-day index segments it has read, so a refresh with nothing
new reads no article text. SQLite's locking makes
one writer at a time (two crawls refreshing one file wait for each other, within a timeout).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crawler.items import BEIJING
from pipelines.read.query import (
    BORDER,
    MARK_END,
    MARK_START,
    Query,
    QueryError,
    bordered,
    cjk_bigrams,
    cjk_snippet,
)
from pipelines.read.reader import ArchiveReader
from pipelines.read.search_sources import catalog_batches, day_batches
from pipelines.records.day_index import IndexEntry
from pipelines.store import is_local

LOG = logging.getLogger("newsarchive.search")

SCHEMA_VERSION = 3  # a file written with another version is rebuilt (it is derived data)
LOCK_TIMEOUT_SECONDS = 60
OPTIMIZE_AFTER = 5000  # articles added by one refresh before the index is merged

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (
    doc INTEGER PRIMARY KEY,
    site TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    published TEXT NOT NULL, day TEXT NOT NULL, title TEXT NOT NULL, tickers TEXT NOT NULL,
    language TEXT NOT NULL, url TEXT NOT NULL, record_key TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0, extraction TEXT,
    UNIQUE (site, id)
);
-- Texts apart: a filtered search looks up the articles row of every match, and narrow rows
-- keep those lookups in a few pages (with the text inline they cost more than the ranking).
CREATE TABLE IF NOT EXISTS texts (doc INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS articles_day ON articles (day);
CREATE TABLE IF NOT EXISTS segments (key TEXT PRIMARY KEY);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    title, body, cjk, tokenize = "porter unicode61 remove_diacritics 2 separators '​'"
);
INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA_VERSION}')
"""
_TABLES = ("meta", "articles", "texts", "segments", "fts")
# BM25 with the title weighing most. Called as a function and sorted by SQLite rather than
# FTS5's `rank` column: measured a quarter faster on common words, and a filter is applied
# before the score is computed instead of after.
_SCORE = "bm25(fts, 8.0, 1.0, 1.0)"


@dataclass(frozen=True)
class SearchOptions:
    """`[search]`: where the index file is, and whether crawls refresh it at their end."""

    path: str = ""  # "" = search.sqlite in the spool folder (local state, never the archive)
    # local: crawls refresh it when the archive is a local folder; always; never
    auto_index: str = field(default="local", metadata={"choices": ("local", "always", "never")})

    def index_path(self, spool_dir: str) -> Path:
        return Path(self.path) if self.path else Path(spool_dir) / "search.sqlite"

    def refreshed_by_crawls(self, archive_location: str) -> bool:
        if self.auto_index == "local":
            return is_local(archive_location)
        return self.auto_index == "always"


@dataclass(frozen=True)
class Hit:
    site: str
    id: str
    version: int
    published: str
    title: str
    tickers: tuple[str, ...]
    language: str
    url: str
    removed: bool
    snippet: str
    score: float
    extraction: str | None = None  # "generic": the text is the generic extractor's

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "tickers": list(self.tickers)}


class SearchIndex:
    """One index file. Open it, `refresh` it from an archive, `search` it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_SECONDS, isolation_level=None)
        self._wal()
        with self._writing():
            if self._schema() not in (None, str(SCHEMA_VERSION)):
                for table in _TABLES:
                    self.db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction: all of it or nothing. BEGIN IMMEDIATE takes the write lock
        at once, waiting for another writer up to the timeout (one writer at a time)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _schema(self) -> str | None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        except sqlite3.OperationalError:  # a new file
            return None
        return None if row is None else str(row[0])

    def _wal(self) -> None:
        """Write-ahead logging (readers never wait for the writer). Switching to it takes the
        file for a moment and does not wait for a busy file like other statements: retried."""
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- building ------------------------------------------------------------------------

    def refresh(
        self,
        reader: ArchiveReader,
        site: str | None = None,
        since: date | None = None,
        until: date | None = None,
        progress: Callable[[], None] | None = None,
    ) -> dict[str, int]:
        """Index what the range holds that is not indexed yet (search_sources.py); mark
        removals."""
        counts = {"segments": 0, "indexed": 0, "texts_read": 0}
        known = {row[0] for row in self.db.execute("SELECT key FROM segments")}
        source = catalog_batches if reader.catalog is not None else day_batches
        for mark, documents in source(reader, site, since, until, known, self._version_of):
            self._write(documents, mark)
            counts["segments"] += 1
            counts["indexed"] += len(documents)
            counts["texts_read"] += len(documents)
            for _ in documents:
                if progress is not None:
                    progress()
        self.mark_removed(reader)
        if counts["indexed"] >= OPTIMIZE_AFTER:
            self.optimize()
        return counts

    def _version_of(self, entry: IndexEntry) -> int | None:
        row = self.db.execute(
            "SELECT version FROM articles WHERE site = ? AND id = ?", (entry.site, entry.id)
        ).fetchone()
        return None if row is None else int(row[0])

    def _write(self, documents: list[tuple[IndexEntry, str]], segment: str | None) -> None:
        """One transaction: the documents and the segment they came from, or nothing."""
        with self._writing():
            for entry, text in documents:
                self._put(entry, text)
            if segment is not None:
                self.db.execute("INSERT OR IGNORE INTO segments VALUES (?)", (segment,))

    def add(self, entries: Iterable[tuple[IndexEntry, str]]) -> int:
        """Index documents directly (benchmarks, tests): (index entry, clean text)."""
        batch = list(entries)
        self._write(batch, None)
        return len(batch)

    def _put(self, entry: IndexEntry, text: str) -> None:
        row = self.db.execute(
            "SELECT doc, version FROM articles WHERE site = ? AND id = ?", (entry.site, entry.id)
        ).fetchone()
        if row is not None and row[1] > entry.version:
            return
        if row is not None:
            self.db.execute("DELETE FROM fts WHERE rowid = ?", (row[0],))
            self.db.execute("DELETE FROM articles WHERE doc = ?", (row[0],))
            self.db.execute("DELETE FROM texts WHERE doc = ?", (row[0],))
        day = entry.published.astimezone(BEIJING).date().isoformat()
        cursor = self.db.execute(
            "INSERT INTO articles (site, id, version, published, day, title, tickers, language,"
            " url, record_key, extraction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.site,
                entry.id,
                entry.version,
                entry.published.isoformat(),
                day,
                entry.title,
                " " + " ".join(entry.tickers) + " ",
                entry.language,
                entry.url,
                entry.record_key,
                entry.extraction,
            ),
        )
        self.db.execute("INSERT INTO texts VALUES (?, ?)", (cursor.lastrowid, text))
        self.db.execute(
            "INSERT INTO fts (rowid, title, body, cjk) VALUES (?, ?, ?, ?)",
            (
                cursor.lastrowid,
                bordered(entry.title),
                bordered(text),
                cjk_bigrams(entry.title + "\n" + text),
            ),
        )

    def mark_removed(self, reader: ArchiveReader) -> None:
        """Flag the articles whose latest removal marker says they are gone."""
        removed = [
            (site, article_id)
            for (site, article_id), marker in reader.removals().items()
            if marker.get("event") == "removed"
        ]
        with self._writing():
            self.db.execute("UPDATE articles SET removed = 0 WHERE removed = 1")
            self.db.executemany(
                "UPDATE articles SET removed = 1 WHERE site = ? AND id = ?", removed
            )

    def optimize(self) -> None:
        """Merge the full-text index into one b-tree: queries read one segment instead of
        one per batch written (worth it after a large refresh)."""
        self.db.execute("INSERT INTO fts (fts) VALUES ('optimize')")

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM articles").fetchone()[0])

    # --- searching -----------------------------------------------------------------------

    def search(
        self,
        text: str,
        site: str | None = None,
        since: date | None = None,
        until: date | None = None,
        ticker: str | None = None,
        language: str | None = None,
        limit: int = 20,
    ) -> list[Hit]:
        """Ranked hits (BM25, the title weighing most), filters combined with the text."""
        query = Query.parse(text)
        where, values = ["fts MATCH ?"], [query.expression]
        for clause, value in (
            ("a.site = ?", site),
            ("a.day >= ?", since.isoformat() if since else None),
            ("a.day <= ?", until.isoformat() if until else None),
            ("a.tickers LIKE ?", f"% {ticker.upper()} %" if ticker else None),
            ("(a.language = ? OR a.language LIKE ? || '-%')", language),
        ):
            if value is not None:
                where.append(clause)
                values += [value, value] if clause.count("?") == 2 else [value]
        # Rank first, over ids only; texts and snippets only for the hits shown (computing a
        # snippet for every match before sorting made common words ten times slower).
        # Without filters no articles row is looked up until the hits are known.
        joined = " JOIN articles a ON a.doc = fts.rowid" if len(where) > 1 else ""
        ranked = (
            f"SELECT fts.rowid, {_SCORE} AS score FROM fts{joined}"
            f" WHERE {' AND '.join(where)} ORDER BY score LIMIT ?"
        )
        shown = (
            "SELECT a.site, a.id, a.version, a.published, a.title, a.tickers, a.language, a.url,"
            " a.removed, t.text, snippet(fts, 1, ?, ?, ' … ', 24), a.extraction"
            " FROM fts JOIN articles a ON a.doc = fts.rowid JOIN texts t ON t.doc = fts.rowid"
            " WHERE fts MATCH ? AND fts.rowid = ?"
        )
        wanted = limit * 5 if query.mixed else limit
        try:
            top = self.db.execute(ranked, [*values, wanted]).fetchall()
            rows = [
                (
                    *self.db.execute(
                        shown, [MARK_START, MARK_END, query.expression, doc]
                    ).fetchone(),
                    score,
                )
                for doc, score in top
            ]
        except sqlite3.OperationalError as error:  # a query FTS5 still cannot read
            raise QueryError(f"cannot search for {text!r}: {error}") from None
        if query.mixed:
            rows = [r for r in rows if all(m in f"{r[4]}\n{r[9]}".lower() for m in query.mixed)]
        return [_hit(row, query) for row in rows[:limit]]


def _hit(row: tuple[Any, ...], query: Query) -> Hit:
    site, article_id, version, published, title, tickers, language, url, removed = row[:9]
    text, latin_snippet, extraction, score = row[9], row[10].replace(BORDER, ""), row[11], row[12]
    snippet = latin_snippet if MARK_START in latin_snippet else cjk_snippet(text, query)
    return Hit(
        site,
        article_id,
        int(version),
        published,
        title,
        tuple(tickers.split()),
        language,
        url,
        bool(removed),
        snippet,
        float(score),
        extraction,
    )
