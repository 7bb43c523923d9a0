"""Turn parsed pages into archive objects: record JSON, clean text, gzipped raw bytes.

Write order matters for crash safety: raw and text first, the record last. The record is the
commit marker readers look for; a crash before it leaves only orphans that the next run's
create-only writes simply find already present.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from crawler.items import Article, ArticleItem, FetchedPage, RejectedItem, RemovedItem
from pipelines.records.layout import (
    LAYOUT_VERSION,
    ArticleKeys,
    article_keys,
    index_key,
    rejected_keys,
    removal_evidence_key,
    removal_key,
)
from pipelines.records.record_schema import record_problems
from pipelines.store import ArchiveStore

MAX_VERSIONS = 1000
# Record fields that never make a new version by themselves.
VERSION_NEUTRAL = frozenset({"parser", "parser_version"})


@dataclass(frozen=True)
class ArchiveResult:
    """What archiving one item did: archived, new_version, unchanged, rejected, rejected_seen."""

    status: str
    key: str
    version: int = 1
    # sha256 and size of the record just stored (for the per-day index and fixity audits).
    record_sha256: str | None = None
    record_size: int | None = None
    # How the stored record departs from the record schema (pipelines/records/record_schema.json).
    problems: tuple[str, ...] = ()
    # The record just stored (None when this call stored none): the catalog's row of it.
    record: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # Listed again after a crash: the version may be in the catalog already.
    repaired: bool = False


def content_sha256(text: str) -> str:
    """Hash of the clean text: what decides whether an article changed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def archive_article(
    store: ArchiveStore,
    item: ArticleItem,
    on_stored: Callable[[ArchiveResult], None] | None = None,
    returned: bool = False,
) -> ArchiveResult:
    """Store a new article, or a new version of a changed one; nothing if unchanged.

    `on_stored` (the per-day index) hears of a stored version before the index marker is
    written: a crash in between leaves the id unindexed, so the next run comes back to it.
    It also hears of an unchanged article whose marker is missing, which is that case.

    `returned`: the article was last seen removed and answers again: a new version even if
    nothing changed, so its history shows the return.
    """
    article, page = item.article, item.page
    digest = content_sha256(article.text)
    previous: dict[str, Any] | None = None  # the version this one would follow
    for version in range(1, MAX_VERSIONS):
        keys = article_keys(article.site, article.id, article.published, version)
        # A listed id the index did not know needs no read: the conditional put below still
        # finds a record that appeared since (and then this loop reads and compares it).
        fresh = version == 1 and item.unindexed
        existing = None if fresh else store.get(keys.record)
        if existing is None:
            record = build_record(item, digest, version, keys, previous)
            _put_payloads(store, keys, article.text, page, _object_metadata(item, digest, version))
            data = _json_bytes(record)
            created = store.put_if_absent(
                keys.record,
                data,
                "application/json",
                metadata=_object_metadata(item, digest, version),
            )
            if created:
                status = "archived" if version == 1 else "new_version"
                result = ArchiveResult(
                    status,
                    keys.record,
                    version,
                    hashlib.sha256(data).hexdigest(),
                    len(data),
                    tuple(record_problems(record)),
                    record,
                )
                if on_stored is not None:
                    on_stored(result)
                _mark_indexed(store, item, keys)
                return result
            existing = store.get(keys.record)  # another writer won the race for this version
        if existing is None:
            continue
        previous = json.loads(existing)
        if same_capture(previous, page, digest):  # a web-archive capture stored already
            _mark_indexed(store, item, keys)
            return ArchiveResult("unchanged", keys.record, version)
        # Compared with the newest version only: an edit undone later is a version too.
        following = article_keys(article.site, article.id, article.published, version + 1)
        if (
            not store.exists(following.record)
            and same_article(previous, item.article, digest)
            and not returned
        ):
            result = ArchiveResult("unchanged", keys.record, version)
            marker = index_key(article.site, article.id)
            if on_stored is not None and not store.exists(marker):
                # A crash cut an earlier run between record and marker: the version is
                # listed again, its catalog row only if that run's journal did not have it.
                on_stored(
                    replace(
                        result,
                        record_sha256=hashlib.sha256(existing).hexdigest(),
                        record_size=len(existing),
                        record=previous,
                        repaired=True,
                    )
                )
            _mark_indexed(store, item, keys)  # repairs that marker
            return result
    raise RuntimeError(f"more than {MAX_VERSIONS} versions of {article.id}")


def same_article(record: dict[str, Any], article: Article, digest: str) -> bool:
    """Whether a stored record holds this article: same text and same fields. Which parser
    version produced it does not matter; what it produced does (a corrected title or date is
    a new version, like a corrected text)."""
    return record.get("content_sha256") == digest and not changed_fields(record, article)


def same_capture(record: dict[str, Any], page: FetchedPage, digest: str) -> bool:
    """Whether a stored version holds this very web-archive capture, read the same way: a
    second `crawl --from ... --all-captures` stores nothing again, though its older
    captures differ from the newest version."""
    if not page.fetched_from:
        return False
    stored = record.get("fetched_from") or {}
    fields = ("archive", "collection", "timestamp", "original_url")
    return record.get("content_sha256") == digest and all(
        stored.get(name) == page.fetched_from.get(name) for name in fields
    )


def changed_fields(record: dict[str, Any], article: Article) -> list[str]:
    """The article fields that differ from a stored record (for reparse summaries)."""
    fields = article.to_dict()
    return sorted(k for k, v in fields.items() if k not in VERSION_NEUTRAL and record.get(k) != v)


def archive_rejected(store: ArchiveStore, item: RejectedItem) -> ArchiveResult:
    """Keep a page that gave no article, with why, under the day it was fetched."""
    page = item.page
    name = page.page_id or page.source_url
    record_key, raw_key = rejected_keys(page.site, f"{name}.{item.reason}", page.fetched_at)
    record = {
        "site": page.site,
        "page_id": page.page_id,
        "url": page.url,
        "reason": item.reason,
        "detail": item.detail,
        "field": item.field,
        "kind": item.kind,
        **_provenance(page),
        "raw_key": None if page.capture else raw_key,
        "layout_version": LAYOUT_VERSION,
    }
    if not page.capture:
        store.put_if_absent(raw_key, gzip.compress(page.body, mtime=0), "text/html", "gzip")
    created = store.put_if_absent(record_key, _json_bytes(record), "application/json")
    return ArchiveResult("rejected" if created else "rejected_seen", record_key)


def archive_item(
    store: ArchiveStore,
    item: ArticleItem | RejectedItem | RemovedItem,
    on_stored: Callable[[ArchiveResult], None] | None = None,
) -> ArchiveResult:
    """Archive whatever a crawl handed over: an article (a returned one gets a new version and
    a marker), a rejected page, or a removal. The pipeline and the spool's flush both use it."""
    if isinstance(item, RejectedItem):
        return archive_rejected(store, item)
    if isinstance(item, RemovedItem):
        return archive_removal(store, item)
    returned = bool(item.revisit and item.revisit.get("removed"))
    result = archive_article(store, item, on_stored, returned=returned)
    if returned:
        mark_returned(store, item, result)
    return result


def archive_removal(store: ArchiveStore, item: RemovedItem) -> ArchiveResult:
    """Mark an archived article removed, with when it was first seen gone and the evidence
    (status, final URL, the page as served). Its versions are never touched. A removal seen
    again (already marked) writes nothing."""
    page = item.page
    if item.revisit.get("removed"):
        return ArchiveResult("removed_seen", "")
    key = removal_key(page.site, page.page_id or page.url, page.fetched_at, "removed")
    evidence: dict[str, Any] = {"warc": page.capture}
    if not page.capture:
        evidence["raw_key"] = removal_evidence_key(key)
        store.put_if_absent(
            evidence["raw_key"], gzip.compress(page.body, mtime=0), "text/html", "gzip"
        )
    marker = {
        "site": page.site,
        "id": page.page_id,
        "url": page.url,
        "event": "removed",
        "first_seen_gone": page.fetched_at.isoformat(),
        "detail": item.detail,
        "http_status": page.status,
        "final_url": page.fetched_url,
        **evidence,
    }
    store.put_if_absent(key, _json_bytes(marker), "application/json")
    return ArchiveResult("removed", key)


def mark_returned(store: ArchiveStore, item: ArticleItem, result: ArchiveResult) -> str:
    """A removed article answers again: the marker that says when, and which version."""
    page = item.page
    key = removal_key(page.site, item.article.id, page.fetched_at, "returned")
    marker = {
        "site": page.site,
        "id": item.article.id,
        "url": page.url,
        "event": "returned",
        "returned_at": page.fetched_at.isoformat(),
        "record_key": result.key,
        "version": result.version,
    }
    store.put_if_absent(key, _json_bytes(marker), "application/json")
    return key


def build_record(
    item: ArticleItem,
    digest: str,
    version: int,
    keys: ArticleKeys,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON record: article fields, content hash, parser, provenance, sibling keys; a
    later version also says which fields changed since the one before and when it was seen."""
    previous_key = None
    history: dict[str, Any] = {}
    if version > 1:
        article = item.article
        previous_key = article_keys(article.site, article.id, article.published, version - 1).record
        history = {
            "changed_fields": changed_fields(previous, article) if previous else None,
            "seen_at": item.page.fetched_at.isoformat(),
        }
    return {
        **item.article.to_dict(),
        "content_sha256": digest,
        "version": version,
        # The newest version is current; each later record names the one it supersedes,
        # and earlier records are never rewritten (create-only archive).
        "previous_key": previous_key,
        **history,
        **_provenance(item.page),
        "text_key": keys.text,
        "raw_key": None if item.page.capture else keys.raw,
        "layout_version": LAYOUT_VERSION,
        "archived_at": datetime.now(UTC).isoformat(),
    }


def _mark_indexed(store: ArchiveStore, item: ArticleItem, keys: ArticleKeys) -> None:
    article = item.article
    marker = {
        "id": article.id,
        "record_key": keys.record,
        "published": article.published.isoformat(),
    }
    store.put_if_absent(
        index_key(article.site, article.id), _json_bytes(marker), "application/json"
    )


def _provenance(page: FetchedPage) -> dict[str, Any]:
    return {
        "source_url": page.source_url,
        "fetched_url": page.fetched_url,
        "fetched_at": page.fetched_at.isoformat(),
        "http_status": page.status,
        "http_headers": page.headers,
        "rendered_by": page.rendered_by,
        "fetched_from": page.fetched_from,
        # Where the page as served lives when it was captured in a WARC file (key, offset,
        # length, WARC-Record-ID); without it, `raw_key` names a gzipped copy of the body.
        "warc": page.capture,
    }


def _put_payloads(
    store: ArchiveStore, keys: ArticleKeys, text: str, page: FetchedPage, metadata: dict[str, str]
) -> None:
    # Exactly the bytes `content_sha256` hashes: `sha256sum` of the object is the record's field.
    text_bytes = text.encode("utf-8")
    store.put_if_absent(keys.text, text_bytes, "text/plain; charset=utf-8", metadata=metadata)
    if page.capture:
        return  # the exchange is in a WARC file; the record says where
    content_type = (
        page.headers.get("Content-Type") or page.headers.get("content-type") or "text/html"
    )
    # mtime=0 makes the gzip bytes a pure function of the page, so re-runs are byte-identical.
    raw = gzip.compress(page.body, mtime=0)
    store.put_if_absent(
        keys.raw, raw, content_type, "gzip", metadata={**metadata, "status": str(page.status)}
    )


def _object_metadata(item: ArticleItem, digest: str, version: int) -> dict[str, str]:
    return {
        "site": item.article.site,
        "article-id": item.article.id,
        "content-sha256": digest,
        "version": str(version),
        "parser": f"{item.article.parser}/{item.article.parser_version}",
    }


def _json_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8") + b"\n"
