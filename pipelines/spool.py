"""Local spool for what the archive could not take (storage down, throttling, a full disk).

A storage outage must never drop an article: the whole item (raw bytes, headers, parsed
article or rejection reason) is written to a local folder and archived later, by the next
crawl or `newsarchive flush`, through the same create-only archive logic, so a flush that
races a crawl or runs twice still stores each article once. Other objects a run writes (its
run report) wait here the same way, as a key and its bytes.

A flush claims the files it is about to store by renaming them (`.flushing-<pid>-<name>`), so
a crawl that ends while another process flushes does not count those as pending; the claims
of a flush that died are pending again, and the next flush takes them over.
"""

from __future__ import annotations

import base64
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
from pipelines.store.files import TMP_PREFIX, process_alive, remove_dead_temps, write_temp
from pipelines.warc import ready_files

CLAIM_PREFIX = ".flushing-"  # + the flushing process's pid + "-" + the file's own name
OBJECT_PREFIX = "object-"  # a spooled object that is not an item (a run report)


@dataclass(frozen=True)
class SpooledObject:
    """An object for the archive as it will be stored: its key, bytes and type."""

    key: str
    body: bytes
    content_type: str


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

    def add_object(self, key: str, body: bytes, content_type: str) -> Path:
        """Keep an object the archive could not take now (a run report), stored as it is by
        the next flush; its path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{OBJECT_PREFIX}{safe_name(key)}.json"
        data = {
            "type": "object",
            "key": key,
            "content_type": content_type,
            "body": base64.b64encode(body).decode("ascii"),
        }
        os.replace(write_temp(self.directory, json.dumps(data).encode("utf-8")), path)
        return path

    def check(self) -> None:
        """Before a run: the spool folder exists or can be made, and takes a file (OSError
        if not); temporary files of killed runs are removed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        write_temp(self.directory, b"").unlink()
        remove_dead_temps(self.directory)

    def pending(self) -> list[Path]:
        """Spooled files no live flush holds: unclaimed ones, and the claims of flushes that
        died (a flush in another process is storing the rest now)."""
        if not self.directory.is_dir():
            return []
        waiting = []
        for path in self.directory.glob("*.json"):
            if path.name.startswith(TMP_PREFIX):
                continue
            owner = _claimed_by(path)
            if owner is None or (owner != os.getpid() and not process_alive(owner)):
                waiting.append(path)
        return sorted(waiting, key=_own_name)

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
        claimed = [path for path in map(self._claim, self.pending()) if path is not None]
        uploaded = 0
        for number, path in enumerate(claimed):
            try:
                item = _decode(json.loads(path.read_text(encoding="utf-8")))
                if isinstance(item, SpooledObject):
                    store.put_if_absent(item.key, item.body, item.content_type)
                else:
                    stored = None
                    if isinstance(item, ArticleItem) and on_archived is not None:
                        stored = partial(on_archived, item)
                    archive_item(store, item, stored)
            except StoreError:
                for held in claimed[number:]:  # still down: they wait for the next flush
                    os.replace(held, self.directory / _own_name(held))
                break
            path.unlink(missing_ok=True)
            uploaded += 1
        return FlushResult(uploaded=uploaded, pending=len(claimed) - uploaded)

    def _claim(self, path: Path) -> Path | None:
        """Take a spooled file for this process's flush (None: another flush took it)."""
        claimed = self.directory / f"{CLAIM_PREFIX}{os.getpid()}-{_own_name(path)}"
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return claimed


def _claimed_by(path: Path) -> int | None:
    if not path.name.startswith(CLAIM_PREFIX):
        return None
    owner = path.name[len(CLAIM_PREFIX) :].split("-", 1)[0]
    return int(owner) if owner.isdigit() else None


def _own_name(path: Path) -> str:
    """A spooled file's name without the claim of the flush holding it."""
    if _claimed_by(path) is None:
        return path.name
    return path.name[len(CLAIM_PREFIX) :].split("-", 1)[1]


def _encode(item: ArticleItem | RejectedItem | RemovedItem) -> dict[str, Any]:
    page = item.page.to_dict()
    if isinstance(item, ArticleItem):
        return {
            "type": "article",
            "page": page,
            "article": item.article.to_dict(),
            "revisit": item.revisit,
        }
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


def _decode(data: dict[str, Any]) -> ArticleItem | RejectedItem | RemovedItem | SpooledObject:
    if data["type"] == "object":
        body = base64.b64decode(data["body"])
        return SpooledObject(key=data["key"], body=body, content_type=data["content_type"])
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
