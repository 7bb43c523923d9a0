"""Per-day index segments: what lets a reader list a month without reading every record.

Every archived article version gets one line (`IndexEntry`: id, title, publication time,
tickers, keys) in a segment object `daily/<site>/<YYYY>/<MM>/<DD>/<segment>.jsonl`, filed under
the article's publication day (Beijing time, like its record). A reader lists one month's
prefix (one LIST request per 1,000 segments) and reads its segments (one GET each), instead of
one GET per article. Lines are journaled locally before they are published (journal.py), so a
crawl killed half way loses none.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.items import ArticleItem
from pipelines.records.journal import Journal, segments
from pipelines.records.layout import article_keys, daily_segment_key
from pipelines.records.writer import ArchiveResult, content_sha256
from pipelines.store import ArchiveStore

JOURNAL_DIR = "daily-journal"


@dataclass(frozen=True)
class IndexEntry:
    """One index line: one stored version of one article, enough to list and filter it."""

    site: str
    id: str
    version: int
    published: datetime
    title: str
    language: str
    url: str
    outlet: str | None
    tickers: tuple[str, ...]
    parser: str
    parser_version: str
    content_sha256: str
    record_key: str
    text_key: str
    raw_key: str | None  # None: the page as served is in a WARC file (see the record)
    record_sha256: str | None = None  # of the record object, for fixity audits
    record_size: int | None = None
    extraction: str | None = None  # "generic": no layout read the page (the record says more)

    @classmethod
    def of(cls, item: ArticleItem, result: ArchiveResult) -> IndexEntry:
        article = item.article
        keys = article_keys(article.site, article.id, article.published, result.version)
        return cls(
            site=article.site,
            id=article.id,
            version=result.version,
            published=article.published,
            title=article.title,
            language=article.language,
            url=article.url,
            outlet=article.outlet,
            tickers=article.tickers,
            parser=article.parser,
            parser_version=article.parser_version,
            content_sha256=content_sha256(article.text),
            record_key=keys.record,
            text_key=keys.text,
            raw_key=None if item.page.capture else keys.raw,
            record_sha256=result.record_sha256,
            record_size=result.record_size,
            extraction=article.extraction,
        )

    @classmethod
    def from_dict(cls, line: dict[str, Any]) -> IndexEntry:
        names = {f.name for f in dataclasses.fields(IndexEntry)}
        values = {k: v for k, v in line.items() if k in names}
        values["version"] = int(values["version"])
        values["published"] = datetime.fromisoformat(values["published"])
        values["tickers"] = tuple(values.get("tickers") or ())
        values.setdefault("outlet", None)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(IndexEntry)}
        out["published"] = self.published.isoformat()
        out["tickers"] = list(self.tickers)
        if out["extraction"] is None:  # lines of articles a layout read stay as they were
            del out["extraction"]
        return out


def _segment_key(line: dict[str, Any], journal: str) -> str:
    return daily_segment_key(line["site"], datetime.fromisoformat(line["published"]), journal)


class DayIndex(Journal):
    """The per-day index lines of one process, journaled under the spool folder."""

    def __init__(self, spool_dir: str | Path) -> None:
        super().__init__(Path(spool_dir) / JOURNAL_DIR, segments(_segment_key))

    def add_article(self, store: ArchiveStore, item: ArticleItem, result: ArchiveResult) -> None:
        """archive_article's `on_stored` hook (bind store and item with functools.partial)."""
        self.add(IndexEntry.of(item, result).to_dict(), store)
