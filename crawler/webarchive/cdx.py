"""What a CDX server says about a site's pages: captures, and the one kept per article.

Pure functions (no Scrapy, no network): the Wayback Machine answers `output=json` with a JSON
array whose first row names the fields (urlkey, timestamp, original, mimetype, statuscode,
digest, length); pywb, which serves Common Crawl's index, answers one JSON object per line
(url, mime, status, ..., filename, offset, length). Both are read here into one `Capture`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from crawler.parsers.base import PageRef

# The Wayback Machine's names, and pywb's for the same fields.
ALIASES = {"original": "url", "statuscode": "status", "mimetype": "mime"}
GOOD = 200


@dataclass(frozen=True)
class Capture:
    """One capture of one URL in a web archive."""

    source: str  # wayback | commoncrawl
    original: str  # the URL as it was captured
    timestamp: str  # YYYYMMDDhhmmss, UTC
    status: int | None
    digest: str | None
    collection: str | None = None  # a Common Crawl crawl id (CC-MAIN-2024-10)
    filename: str | None = None  # Common Crawl: the WARC file, offset and length of the record
    offset: int | None = None
    length: int | None = None

    @property
    def captured_at(self) -> datetime:
        return datetime.strptime(self.timestamp.ljust(14, "0")[:14], "%Y%m%d%H%M%S").replace(
            tzinfo=UTC
        )

    def as_data(self) -> dict[str, Any]:
        """The capture as JSON data: a frontier entry carries it to the worker that fetches it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Capture:
        """The capture `as_data` wrote; ValueError when the data is not one (a foreign entry)."""
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError as error:
            raise ValueError(f"not a capture: {error}") from None

    def provenance(self, fetched_url: str) -> dict[str, Any]:
        """The record's `fetched_from`: enough to fetch the same bytes again."""
        out: dict[str, Any] = {
            "archive": self.source,
            "collection": self.collection,
            "captured_at": self.captured_at.isoformat(),
            "timestamp": self.timestamp,
            "original_url": self.original,
            "status": self.status,
            "digest": self.digest,
        }
        if self.source == "commoncrawl":  # the record in Common Crawl's own WARC files
            out.update(filename=self.filename, offset=self.offset, length=self.length)
        else:  # a Wayback server's files are its own business: its replay is the address
            out["replay_url"] = fetched_url
        return out


def cdx_query(
    endpoint: str,
    prefix: str,
    since: date,
    until: date,
    *,
    page: int | None = None,
    count_pages: bool = False,
    page_size: int = 0,
) -> str:
    """A CDX query for the captures under a URL prefix between two days (inclusive): the
    number of its pages (`count_pages`), one page of it, or all of it at once."""
    params: dict[str, Any] = {
        "url": prefix,
        "matchType": "prefix",
        "from": f"{since:%Y%m%d}000000",
        "to": f"{until:%Y%m%d}235959",
        "output": "json",
    }
    if count_pages:
        params["showNumPages"] = "true"
    if page is not None:
        params["page"] = page
    if page_size and (count_pages or page is not None):
        params["pageSize"] = page_size
    return f"{endpoint}?{urlencode(params)}"


def page_count(text: str) -> int | None:
    """The answer to `showNumPages`: a bare number (the Wayback Machine) or `{"pages": N}`
    (pywb over a ZipNum cluster, Common Crawl's index). None when the server answered with
    captures instead: an index that does not page (whose answer may ignore the dates)."""
    body = text.strip()
    if body.isdigit():
        return int(body)
    if body.startswith("{") and "\n" not in body:
        try:
            answer = json.loads(body)
        except ValueError:
            return None
        if isinstance(answer, dict) and isinstance(answer.get("pages"), int):
            return int(answer["pages"])
    return None


def parse_cdx(text: str, source: str, collection: str | None = None) -> list[Capture]:
    """The captures of one CDX answer; an empty answer is none. ValueError when the answer
    is neither form (a changed API, an error page): a discovery error, never 'no captures'."""
    body = text.strip()
    if not body:
        return []
    rows: list[dict[str, Any]]
    if body.startswith("["):
        table = json.loads(body)
        if not table:
            return []
        header = [ALIASES.get(str(name), str(name)) for name in table[0]]
        rows = [dict(zip(header, row, strict=False)) for row in table[1:]]
    else:
        rows = []
        for line in body.splitlines():
            if line.strip():
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError(f"a CDX line that is not an object: {line[:80]!r}")
                rows.append({ALIASES.get(str(k), str(k)): v for k, v in row.items()})
    captures = []
    for row in rows:
        if "url" not in row or "timestamp" not in row:
            raise ValueError(f"a CDX row without url or timestamp: {row}")
        status = str(row.get("status") or "")
        captures.append(
            Capture(
                source=source,
                original=str(row["url"]),
                timestamp=str(row["timestamp"]),
                status=int(status) if status.isdigit() else None,
                digest=row.get("digest"),
                collection=collection,
                filename=row.get("filename"),
                offset=int(row["offset"]) if row.get("offset") not in (None, "") else None,
                length=int(row["length"]) if row.get("length") not in (None, "") else None,
            )
        )
    return captures


class CaptureBook:
    """The captures of a site's articles, gathered over every page of every CDX answer (one
    article's URL forms and captures may come in several), kept per article id: the newest
    HTTP 200 and the newest of any status. Two captures per article at most, whatever the
    number of captures: a year of a site stays small."""

    def __init__(self, keep_all: bool = False) -> None:
        self.found: dict[str, tuple[PageRef, Capture | None, Capture]] = {}
        self.captures = 0
        # `--all-captures`: every capture of each article, for `changes()`.
        self.every: dict[str, list[Capture]] | None = {} if keep_all else None

    def add(self, captures: Iterable[Capture], identify: Callable[[str], PageRef | None]) -> int:
        """Keep what matters of `captures`; how many were of an article of the site."""
        kept = 0
        for capture in captures:
            ref = identify(capture.original)
            if ref is None:
                continue
            kept += 1
            held = self.found.get(ref.id)
            good, newest = (held[1], held[2]) if held else (None, capture)
            if capture.status == GOOD and (good is None or capture.timestamp >= good.timestamp):
                good = capture
            if capture.timestamp >= newest.timestamp:
                newest = capture
            self.found[ref.id] = (held[0] if held else ref, good, newest)
            if self.every is not None:
                self.every.setdefault(ref.id, []).append(capture)
        self.captures += kept
        return kept

    def changes(self) -> list[tuple[PageRef, list[Capture]]]:
        """`--all-captures`: each article's good captures oldest first, one per change of
        content (a capture whose digest is the one before it adds nothing; an edit undone
        later is a change again); an article with no good capture, its chosen one."""
        every = self.every or {}
        out = []
        for article_id, (ref, good, newest) in self.found.items():
            ordered = sorted(
                (c for c in every.get(article_id, []) if c.status == GOOD),
                key=lambda c: c.timestamp,
            )
            kept = ordered[:1]
            for capture in ordered[1:]:
                if capture.digest is None or capture.digest != kept[-1].digest:
                    kept.append(capture)
            out.append((ref, kept or [good or newest]))
        return out

    def chosen(self) -> list[tuple[PageRef, Capture]]:
        """One capture per article: the newest good one (HTTP 200), else the newest of any
        status, whose answer is then counted as a crawl's would be (a 404 is `gone`)."""
        return [(ref, good or newest) for ref, good, newest in self.found.values()]


def choose(
    captures: Iterable[Capture], identify: Callable[[str], PageRef | None]
) -> list[tuple[PageRef, Capture]]:
    """One capture per article of `captures` (CaptureBook's rule)."""
    book = CaptureBook()
    book.add(captures, identify)
    return book.chosen()


def replay_url(replay: str, capture: Capture) -> str:
    """The capture's raw bytes as served (the `id_` replay: no rewriting)."""
    return f"{replay.rstrip('/')}/{capture.timestamp}id_/{capture.original}"
