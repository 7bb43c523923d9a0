"""Re-run today's parsers over archived raw pages; store a new version only where the output
changed. The raw page and its recorded headers are exactly what the crawl saw, so a parser fix
reaches the whole archive without fetching anything again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from crawler.items import Article, ArticleItem, FetchedPage
from crawler.parsers import PageRejected, parse
from pipelines.catalog.indexes import ArchiveIndexes
from pipelines.read.reader import ArchivedArticle, UnreadableObject, raw_body
from pipelines.records.writer import ArchiveResult, archive_article, changed_fields
from pipelines.store import ArchiveStore
from pipelines.warc import CaptureMissing


@dataclass
class ReparseSummary:
    """Counts per outcome, and what changed where."""

    counts: Counter[str] = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)  # "<site> <id>: v1 -> v2 (title, text)"
    failures: list[str] = field(default_factory=list)  # "<site> <id>: <reason>"

    def line(self) -> str:
        names = ("reparsed", "new_version", "unchanged", "failed")
        if "recovered" in self.counts:  # a run over rejected pages
            names = ("reparsed", "recovered", "unchanged", "failed")
        return ", ".join(f"{name.replace('_', ' ')} {self.counts[name]}" for name in names)


def reparse(
    store: ArchiveStore,
    articles: Iterable[ArchivedArticle],
    daily: ArchiveIndexes,
    progress: Callable[[ArchivedArticle], None] | None = None,
) -> ReparseSummary:
    """Parse each article's stored raw page again and archive it if the result differs."""
    summary = ReparseSummary()
    for archived in articles:
        if progress is not None:
            progress(archived)
        summary.counts["reparsed"] += 1
        try:
            record = archived.record()
            page = _page_of(archived, record)
        except (CaptureMissing, UnreadableObject) as error:
            _cannot_read(summary, archived.site, archived.id, error)
            continue
        # Today's parser cannot read a page an earlier one could: kept as it was, reported.
        done = _parse_and_archive(store, page, daily, summary)
        if done is None:
            continue
        article, result = done
        summary.counts[result.status] += 1
        if result.status == "new_version":
            fields = ", ".join(changed_fields(record, article))
            summary.changes.append(
                f"{archived.site} {archived.id}: v{archived.version} -> v{result.version} "
                f"({fields}; {_parser_change(record, article)})"
            )
    daily.flush(store)
    return summary


# Rejections that a parser fix can turn into articles (crawler/outcomes.py: kept raw, not
# refetched). Challenge pages and non-articles stay what they are.
RECOVERABLE = frozenset({"parse_error", "layout_changed"})


def reparse_rejected(
    store: ArchiveStore,
    rejected: Iterable[dict[str, Any]],
    daily: ArchiveIndexes,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> ReparseSummary:
    """Parse the kept raw pages of parse errors and layout changes again with today's
    parsers; archive those that now give an article, exactly once (create-only keys: a
    second run, or a page another run archived since, stores nothing new)."""
    summary = ReparseSummary()
    summary.counts["recovered"] = 0
    for record in rejected:
        if progress is not None:
            progress(record)
        if record.get("reason") not in RECOVERABLE:
            continue
        summary.counts["reparsed"] += 1
        try:
            page = _rejected_page(store, record)
        except CaptureMissing as error:
            _cannot_read(summary, record.get("site", "?"), record.get("page_id"), error)
            continue
        done = _parse_and_archive(store, page, daily, summary)
        if done is None:
            continue
        article, result = done
        summary.counts["recovered" if result.status == "archived" else result.status] += 1
        summary.changes.append(f"{page.site} {article.id}: recovered from {record['key']}")
    daily.flush(store)
    return summary


def _parse_and_archive(
    store: ArchiveStore, page: FetchedPage, daily: ArchiveIndexes, summary: ReparseSummary
) -> tuple[Article, ArchiveResult] | None:
    """Parse a kept page with today's parser and archive the article (create-only keys, so
    never twice); None, counted as failed with its reason, when it gives no article."""
    try:
        article = parse(page.url, page.body, page.headers)
    except PageRejected as rejected:
        summary.counts["failed"] += 1
        summary.failures.append(f"{page.site} {page.page_id}: {rejected.reason}: {rejected}")
        return None
    item = ArticleItem(page=page, article=article)
    return article, archive_article(store, item, partial(daily.add_article, store, item))


def _parser_change(record: dict[str, Any], article: Article) -> str:
    """What read the page before and now: the version, or the whole parser when generic
    text gave way to a site layout (or the other way round)."""
    if record.get("parser") != article.parser and (record.get("extraction") or article.extraction):
        before = f"{record.get('extraction') or 'layout'} text by {record.get('parser')}"
        now = f"{article.extraction or 'layout'} text by {article.parser}"
        return f"{before} -> {now}"
    return f"parser {record['parser_version']} -> {article.parser_version}"


def _cannot_read(summary: ReparseSummary, site: str, page_id: str | None, error: Exception) -> None:
    summary.counts["failed"] += 1
    summary.failures.append(f"{site} {page_id}: not readable: {error}")


def _rejected_page(store: ArchiveStore, record: dict[str, Any]) -> FetchedPage:
    raw = raw_body(store, record)
    page_id = record.get("page_id") or record.get("id")
    return _page_from_record(record["site"], page_id, record, raw)


def _page_of(archived: ArchivedArticle, record: dict[str, Any]) -> FetchedPage:
    return _page_from_record(archived.site, archived.id, record, archived.raw())


def _page_from_record(
    site: str, page_id: str | None, record: dict[str, Any], body: bytes
) -> FetchedPage:
    """The fetch as an archived record tells it (article or rejected page), with its body."""
    return FetchedPage(
        site=site,
        page_id=page_id,
        url=record.get("url") or record["source_url"],  # rejected records before 2026-11
        source_url=record["source_url"],
        fetched_url=record["fetched_url"],
        status=record["http_status"],
        headers=dict(record["http_headers"]),
        body=body,
        fetched_at=datetime.fromisoformat(record["fetched_at"]),
        rendered_by=record.get("rendered_by"),
        capture=record.get("warc"),
    )


def summary_lines(summary: ReparseSummary) -> list[str]:
    return [summary.line(), *summary.changes, *(f"failed: {f}" for f in summary.failures)]
