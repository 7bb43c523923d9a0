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

from crawler.items import ArticleItem, FetchedPage
from crawler.parsers import PageRejected, parse
from pipelines.day_index import DayIndex
from pipelines.reader import ArchivedArticle
from pipelines.store import ArchiveStore
from pipelines.writer import archive_article, changed_fields


@dataclass
class ReparseSummary:
    """Counts per outcome, and what changed where."""

    counts: Counter[str] = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)  # "<site> <id>: v1 -> v2 (title, text)"
    failures: list[str] = field(default_factory=list)  # "<site> <id>: <reason>"

    def line(self) -> str:
        names = ("reparsed", "new_version", "unchanged", "failed")
        return ", ".join(f"{name.replace('_', ' ')} {self.counts[name]}" for name in names)


def reparse(
    store: ArchiveStore,
    articles: Iterable[ArchivedArticle],
    daily: DayIndex,
    progress: Callable[[ArchivedArticle], None] | None = None,
) -> ReparseSummary:
    """Parse each article's stored raw page again and archive it if the result differs."""
    summary = ReparseSummary()
    for archived in articles:
        if progress is not None:
            progress(archived)
        summary.counts["reparsed"] += 1
        record = archived.record()
        page = _page_of(archived, record)
        try:
            article = parse(record["url"], page.body, page.headers)
        except PageRejected as rejected:
            # Today's parser cannot read a page an earlier one could: kept as it was, reported.
            summary.counts["failed"] += 1
            summary.failures.append(f"{archived.site} {archived.id}: {rejected.reason}: {rejected}")
            continue
        item = ArticleItem(page=page, article=article)
        result = archive_article(store, item, partial(daily.add_article, store, item))
        summary.counts[result.status] += 1
        if result.status == "new_version":
            fields = ", ".join(changed_fields(record, article))
            summary.changes.append(
                f"{archived.site} {archived.id}: v{archived.version} -> v{result.version} "
                f"({fields}; parser {record['parser_version']} -> {article.parser_version})"
            )
    daily.flush(store)
    return summary


def _page_of(archived: ArchivedArticle, record: dict[str, Any]) -> FetchedPage:
    return FetchedPage(
        site=archived.site,
        page_id=archived.id,
        url=record["url"],
        source_url=record["source_url"],
        fetched_url=record["fetched_url"],
        status=record["http_status"],
        headers=dict(record["http_headers"]),
        body=archived.raw(),
        fetched_at=datetime.fromisoformat(record["fetched_at"]),
        rendered_by=record.get("rendered_by"),
    )


def summary_lines(summary: ReparseSummary) -> list[str]:
    return [summary.line(), *summary.changes, *(f"failed: {f}" for f in summary.failures)]
