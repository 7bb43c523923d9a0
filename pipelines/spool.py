"""Local spool for items the archive could not take (storage down, throttling, refusals).

A storage outage must never drop an article: the whole item (raw bytes, headers, parsed
article or rejection reason) is written to a local folder and archived later, by the next
crawl or `newsarchive flush`, through the same create-only archive logic, so a flush that
races a crawl or runs twice still stores each article once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from crawler.items import Article, ArticleItem, FetchedPage, RejectedItem, RemovedItem
from pipelines.records.layout import safe_name
from pipelines.records.writer import ArchiveResult, archive_item
from pipelines.store import ArchiveStore, StoreError
from pipelines.store.files import TMP_PREFIX, remove_dead_temps, write_temp
from pipelines.warc import ready_files


@dataclass(frozen=True)
class FlushResult:
    """How many spooled items reached the archive, and how many are still waiting."""

    uploaded: int
    pending: int


class Spool:
    """One JSON file per waiting item under `directory`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def add(self, item: ArticleItem | RejectedItem | RemovedItem) -> Path:
        """Write the item durably (temp file + rename) and return its path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        page = item.page
        digest = hashlib.sha256(page.body).hexdigest()[:16]
        path = (
            self.directory
            / f"{page.site}-{safe_name(page.page_id or page.source_url)}-{digest}.json"
        )
        data = json.dumps(_encode(item), ensure_ascii=False).encode("utf-8")
        os.replace(write_temp(self.directory, data), path)
        return path

    def check(self) -> None:
        """Before a run: the spool folder exists or can be made, and takes a file (OSError
        if not); temporary files of killed runs are removed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        write_temp(self.directory, b"").unlink()
        remove_dead_temps(self.directory)

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if not p.name.startswith(TMP_PREFIX))

    def uploads_pending(self) -> int:
        """Spooled items plus closed WARC files not stored yet: what `flush` would upload."""
        return len(self.pending()) + len(ready_files(self.directory))

    def flush(
        self,
        store: ArchiveStore,
        on_archived: Callable[[ArticleItem, ArchiveResult], None] | None = None,
    ) -> FlushResult:
        """Archive every spooled item; stop at the first storage error (it is still down).

        `on_archived` hears of each article stored (see archive_article's `on_stored`).
        """
        uploaded = 0
        waiting = self.pending()
        for path in waiting:
            try:
                item = _decode(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:
                # Another flush (the other site's spider of the same crawl) took it; the
                # create-only archive makes handling an item twice harmless.
                uploaded += 1
                continue
            try:
                stored = None
                if isinstance(item, ArticleItem) and on_archived is not None:
                    stored = partial(on_archived, item)
                archive_item(store, item, stored)
            except StoreError:
                break
            path.unlink(missing_ok=True)
            uploaded += 1
        return FlushResult(uploaded=uploaded, pending=len(waiting) - uploaded)


def _encode(item: ArticleItem | RejectedItem | RemovedItem) -> dict[str, Any]:
    page = item.page.to_dict()
    if isinstance(item, ArticleItem):
        return {
            "type": "article", "page": page, "article": item.article.to_dict(),
            "revisit": item.revisit,
        }  # fmt: skip
    if isinstance(item, RemovedItem):
        return {"type": "removed", "page": page, "detail": item.detail, "revisit": item.revisit}
    return {
        "type": "rejected",
        "page": page,
        "reason": item.reason,
        "detail": item.detail,
        "field": item.field,
        "kind": item.kind,
    }


def _decode(data: dict[str, Any]) -> ArticleItem | RejectedItem | RemovedItem:
    page = FetchedPage.from_dict(data["page"])
    if data["type"] == "article":
        article = Article.from_dict(data["article"])
        return ArticleItem(page=page, article=article, revisit=data.get("revisit"))
    if data["type"] == "removed":
        return RemovedItem(page=page, detail=data["detail"], revisit=data["revisit"])
    return RejectedItem(
        page=page,
        reason=data["reason"],
        detail=data["detail"],
        field=data["field"],
        kind=data["kind"],
    )
