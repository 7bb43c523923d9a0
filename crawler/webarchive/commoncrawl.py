"""Common Crawl as a source: which monthly crawls cover a range, and a capture's bytes.

Common Crawl has one CDX index per crawl (`CC-MAIN-<year>-<week>`), listed with its `cdx-api`
in `collinfo.json`; a capture's record is fetched from the data host by byte range (one gzip
member holding one WARC record). Choosing the crawls from `collinfo.json` here, rather than
asking every crawl (what cdx_toolkit does when no crawl is named), keeps a year to a dozen
index queries per URL form. Pure functions: no Scrapy, no network.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from warcio.archiveiterator import ArchiveIterator

CRAWL_ID = re.compile(r"^CC-MAIN-(?P<year>\d{4})-(?P<week>\d{2})$")
# A crawl's pages were fetched over the weeks before the week in its name (about a month).
CRAWL_SPAN = timedelta(days=35)


@dataclass(frozen=True)
class Crawl:
    id: str
    cdx_api: str
    start: date
    end: date


def crawls_in_range(collinfo: Any, since: date, until: date) -> list[Crawl]:
    """The crawls whose fetch dates overlap [since, until], oldest first. Entries with
    `from`/`to` say their dates; others are dated by the ISO week in their id. ValueError
    when `collinfo` is not a list of crawls (an error page, a changed format)."""
    if not isinstance(collinfo, list):
        raise ValueError("collinfo.json is not a list of crawls")
    found = []
    for entry in collinfo:
        if not isinstance(entry, dict) or "id" not in entry or "cdx-api" not in entry:
            raise ValueError(f"a collinfo.json entry without id or cdx-api: {entry!r}")
        span = _dates(entry)
        if span is None:
            continue  # not a main crawl (CC-NEWS has no index)
        start, end = span
        if start <= until and since <= end:
            found.append(Crawl(str(entry["id"]), str(entry["cdx-api"]), start, end))
    return sorted(found, key=lambda crawl: crawl.start)


def _dates(entry: dict[str, Any]) -> tuple[date, date] | None:
    if entry.get("from") and entry.get("to"):
        return _day(str(entry["from"])), _day(str(entry["to"]))
    match = CRAWL_ID.match(str(entry["id"]))
    if match is None:
        return None
    end = date.fromisocalendar(int(match["year"]), max(1, int(match["week"])), 7)
    return end - CRAWL_SPAN, end


def _day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).date()


@dataclass(frozen=True)
class ArchivedResponse:
    """The HTTP response a WARC record holds, as the site sent it."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def response_of_record(data: bytes) -> ArchivedResponse:
    """The response in one fetched WARC record (a gzip member, or plain); ValueError when
    the bytes hold no response record (a wrong range, a truncated answer)."""
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            http = record.http_headers
            status = int((http.get_statuscode() or "0")[:3])
            url = record.rec_headers.get_header("WARC-Target-URI") or ""
            return ArchivedResponse(url, status, list(http.headers), record.content_stream().read())
    except Exception as error:  # warcio raises its own and zlib errors on bad bytes
        raise ValueError(f"not a WARC response record: {error}") from None
    raise ValueError("no response record in the fetched range")
