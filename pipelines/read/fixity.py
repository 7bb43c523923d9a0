"""The fixity audit behind `newsarchive verify`: is every stored object still what was stored?

Archives prove integrity by re-reading what they hold and comparing it with digests taken at
capture time. Here those digests are: the per-day index line's sha256 and size of each
record, the record's `content_sha256` of its clean text, gzip's CRC of an old `raw/` object,
and for WARC files the WARC-Block-Digest and WARC-Payload-Digest of every record (warcio
checks them), the CDXJ index beside each file, and the WARC-Record-ID each article record
names at its offset. Each bad object is listed once, by key, as missing or corrupted; the
catalog is compared with the records (catalog_audit.py). Objects are read many at a time
(`[archive] read_concurrency`), findings reported in the objects' order.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from crawler.sites import SITE_NAMES
from pipelines.read.catalog_audit import CatalogAudit
from pipelines.read.reader import ArchiveReader, in_range
from pipelines.records.day_index import IndexEntry
from pipelines.records.journal import segment_lines
from pipelines.records.layout import warc_index_key
from pipelines.store import ArchiveStore, StoreError
from pipelines.warc import WarcRef

WARC_FILES_AT_ONCE = 8  # each streamed whole (up to 1 GiB): a few fill the link
MISSING = "missing"
CORRUPTED = "corrupted"


@dataclass(frozen=True)
class Finding:
    """One object that is not as stored: missing or corrupted, and how we know."""

    key: str
    problem: str
    detail: str

    def line(self) -> str:
        return f"{self.problem.upper():9}  {self.key}  ({self.detail})"


@dataclass
class Audit:
    """What an audit read, and what it found (one finding per key, the first seen)."""

    checked: Counter[str] = field(default_factory=Counter)
    findings: dict[str, Finding] = field(default_factory=dict)

    def found(self, key: str, problem: str, detail: str) -> None:
        self.findings.setdefault(key, Finding(key, problem, detail))

    def merge(self, other: Audit) -> None:
        """Add what another part of the audit (a worker thread's) checked and found."""
        self.checked.update(other.checked)
        for key, finding in other.findings.items():
            self.findings.setdefault(key, finding)

    def report(self, scope: dict[str, Any], started: datetime) -> dict[str, Any]:
        return {
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "scope": scope,
            "checked": dict(self.checked),
            "problems": len(self.findings),
            "findings": [vars(f) for f in self.findings.values()],
        }


@dataclass
class _WarcRecordFacts:
    record_id: str
    length: int
    uri: str
    payload_digest: str


def audit(
    reader: ArchiveReader,
    site: str | None,
    since: date | None,
    until: date | None,
    progress: Callable[[str], None] | None = None,
) -> Audit:
    """Re-read every object of the range and compare it with its recorded digests, and the
    catalog with the records. Objects are read `read_concurrency` at a time; findings come
    in the order of the objects, whatever order the reads finish in."""
    result = Audit()
    tick = progress or (lambda key: None)
    store = reader.store
    catalog = CatalogAudit(reader.catalog, since, until, result.found)
    captures: list[tuple[str, WarcRef]] = []  # (record key naming it, capture)
    segments = reader.each(partial(_read_alone, store), reader.index_segments(site, since, until))
    entries = (
        entry
        for key, body, read in segments
        for entry in _index_lines(key, body, read, since, until, result)
    )
    for entry, record, sha256, checked in reader.each(partial(_article, store), entries):
        result.merge(checked)
        tick(entry.record_key)
        catalog.add(entry.site, entry.record_key, sha256)
        if record and record.get("warc"):
            captures.append((entry.record_key, WarcRef.from_dict(record["warc"])))
    catalog.finish([site] if site else list(SITE_NAMES))
    result.checked["catalog rows"] += catalog.rows_checked
    for rejected in reader.rejected(site, since, until):
        tick(rejected["key"])
        result.checked["rejected records"] += 1
        if rejected.get("warc"):
            captures.append((rejected["key"], WarcRef.from_dict(rejected["warc"])))
        elif rejected.get("raw_key"):
            _check_gzip(store, rejected["raw_key"], result)
    files: dict[str, dict[int, _WarcRecordFacts] | None] = {}
    warc_files = reader.warc_files(site, since, until)
    for key, facts, checked in reader.each(
        partial(_warc_file, store), warc_files, WARC_FILES_AT_ONCE
    ):
        result.merge(checked)
        tick(key)
        files[key] = facts
    partial_files: set[str] = set()  # files known by the records read alone, not in full
    for named_by, ref in captures:
        _check_capture(store, named_by, ref, files, partial_files, result)
    return result


def _read_alone(store: ArchiveStore, key: str) -> tuple[str, bytes | None, Audit]:
    """One object read in a worker thread, with what reading it found."""
    read = Audit()
    return key, _read(store, key, read), read


def _article(
    store: ArchiveStore, entry: IndexEntry
) -> tuple[IndexEntry, dict[str, Any] | None, str | None, Audit]:
    """One article's objects checked in a worker thread: (entry, record, its sha256, found)."""
    checked = Audit()
    record, sha256 = _check_article(store, entry, checked)
    return entry, record, sha256, checked


def _warc_file(
    store: ArchiveStore, key: str
) -> tuple[str, dict[int, _WarcRecordFacts] | None, Audit]:
    checked = Audit()
    return key, _check_warc_file(store, key, checked), checked


def _index_lines(
    key: str,
    body: bytes | None,
    read: Audit,
    since: date | None,
    until: date | None,
    result: Audit,
) -> list[IndexEntry]:
    """A per-day index segment's lines in range; a damaged segment is listed (its readable
    lines are still checked)."""
    result.checked["index segments"] += 1
    result.merge(read)
    if body is None:
        return []
    lines, damaged = segment_lines(body)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        damaged = damaged or [0]
    if damaged:
        result.found(key, CORRUPTED, f"line {damaged[0]} is not a JSON object")
    entries = []
    for line in lines:
        try:
            entry = IndexEntry.from_dict(line)
        except (KeyError, TypeError, ValueError):
            result.found(key, CORRUPTED, "a line is not an index entry")
            continue
        if in_range(entry.published, since, until):
            entries.append(entry)
    return entries


def _check_article(
    store: ArchiveStore, entry: IndexEntry, result: Audit
) -> tuple[dict[str, Any] | None, str | None]:
    """The record against its index line, its text against the record: (record, the
    record object's sha256), each None when it cannot be read."""
    result.checked["article records"] += 1
    data = _read(store, entry.record_key, result)
    if data is None:
        return None, None
    sha256 = hashlib.sha256(data).hexdigest()
    if entry.record_sha256 and sha256 != entry.record_sha256:
        result.found(entry.record_key, CORRUPTED, "sha256 differs from the per-day index")
        return None, None  # the record is what is wrong, not its catalog row
    if entry.record_size is not None and len(data) != entry.record_size:
        result.found(
            entry.record_key, CORRUPTED, f"{len(data)} bytes, index says {entry.record_size}"
        )
        return None, None  # the record is what is wrong, not its catalog row
    try:
        record: dict[str, Any] = json.loads(data)
    except ValueError:
        result.found(entry.record_key, CORRUPTED, "not JSON")
        return None, None  # the record is what is wrong, not its catalog row
    result.checked["texts"] += 1
    text = _read(store, entry.text_key, result)
    if text is not None:
        # What `sha256sum` of the object says; objects written before 2026-12 carry one
        # newline more than the text they hash.
        digest = hashlib.sha256(text).hexdigest()
        legacy = text.endswith(b"\n") and hashlib.sha256(text[:-1]).hexdigest()
        same = record.get("content_sha256") in (digest, legacy)
        if not same:
            result.found(
                entry.text_key, CORRUPTED, "sha256 differs from the record's content_sha256"
            )
    if record.get("raw_key"):
        _check_gzip(store, record["raw_key"], result)
    return record, sha256


def _check_gzip(store: ArchiveStore, key: str, result: Audit) -> None:
    """An old raw page: gzip's CRC32 and length trailer are its recorded digest."""
    result.checked["raw pages"] += 1
    data = _read(store, key, result)
    if data is None:
        return
    try:
        gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        result.found(key, CORRUPTED, f"gzip check failed: {error}")


def _check_warc_file(
    store: ArchiveStore, key: str, result: Audit
) -> dict[int, _WarcRecordFacts] | None:
    """Every record's digests, then the CDXJ index against the records; the records by
    offset (None when the file is missing or damaged)."""
    result.checked["WARC files"] += 1
    try:
        stream = store.open_read(key)
    except StoreError as error:
        result.found(key, MISSING, str(error))
        return None
    if stream is None:
        result.found(key, MISSING, "not in the archive")
        return None
    records: dict[int, _WarcRecordFacts] = {}
    try:
        with stream:
            iterator = ArchiveIterator(stream, check_digests=True)
            for record in iterator:
                while record.content_stream().read(1 << 20):
                    pass
                offset = iterator.get_record_offset()
                if record.digest_checker.passed is False:
                    problems = "; ".join(record.digest_checker.problems)
                    result.found(key, CORRUPTED, f"record at {offset}: {problems}")
                    return None
                iterator.read_to_end(record)
                headers = record.rec_headers
                records[offset] = _WarcRecordFacts(
                    headers.get_header("WARC-Record-ID") or "",
                    iterator.get_record_length(),
                    headers.get_header("WARC-Target-URI") or "",
                    headers.get_header("WARC-Payload-Digest") or "",
                )
                result.checked["WARC records"] += 1
    except Exception as error:  # warcio, zlib and botocore all raise their own kinds here
        result.found(key, CORRUPTED, f"unreadable: {type(error).__name__}: {error}")
        return None
    _check_cdxj(store, key, records, result)
    return records


def _check_cdxj(
    store: ArchiveStore, key: str, records: dict[int, _WarcRecordFacts], result: Audit
) -> None:
    index_key = warc_index_key(key)
    result.checked["CDXJ indexes"] += 1
    data = _read(store, index_key, result)
    if data is None:
        return
    try:
        lines = [json.loads(line.split(" ", 2)[2]) for line in data.decode().splitlines() if line]
    except (ValueError, IndexError, UnicodeDecodeError):
        result.found(index_key, CORRUPTED, "not CDXJ")
        return
    for line in lines:
        facts = records.get(int(line.get("offset", -1)))
        if (
            facts is None
            or facts.length != int(line.get("length", -1))
            or facts.uri != line.get("url")
            or facts.payload_digest != line.get("digest", facts.payload_digest)
        ):
            result.found(
                index_key,
                CORRUPTED,
                f"line for offset {line.get('offset')} does not match the WARC file",
            )
            return


def _check_capture(
    store: ArchiveStore,
    named_by: str,
    ref: WarcRef,
    files: dict[str, dict[int, _WarcRecordFacts] | None],
    partial: set[str],
    result: Audit,
) -> None:
    """The record an article names is at its offset, with its id (read whole files once;
    a capture in a file outside the range's days is read by its byte range)."""
    result.checked["captures"] += 1
    if ref.key in result.findings:
        return  # the file itself is listed
    records = files.get(ref.key)
    if ref.key not in files or (
        records is not None and ref.key in partial and ref.offset not in records
    ):
        # Not a file of the range's days: read this record alone, by its byte range.
        alone = _records_at(store, ref, result)
        if alone is None:
            return
        partial.add(ref.key)
        records = {**(records or {}), **alone}
        files[ref.key] = records
    if records is None:
        return
    facts = records.get(ref.offset)
    if facts is None or facts.record_id != ref.record_id or facts.length != ref.length:
        result.found(
            named_by, CORRUPTED, f"names {ref.record_id} at {ref.key}:{ref.offset}, not there"
        )


def _records_at(
    store: ArchiveStore, ref: WarcRef, result: Audit
) -> dict[int, _WarcRecordFacts] | None:
    """The capture's record alone, digests checked (one ranged read)."""
    try:
        data = store.get_range(ref.key, ref.offset, ref.length)
    except StoreError as error:
        result.found(ref.key, MISSING, str(error))
        return None
    if data is None:
        result.found(ref.key, MISSING, "not in the archive")
        return None
    try:
        iterator = ArchiveIterator(io.BytesIO(data), check_digests=True)
        record = next(iter(iterator))
        while record.content_stream().read(1 << 20):
            pass
        if record.digest_checker.passed is False:
            result.found(
                ref.key,
                CORRUPTED,
                f"record at {ref.offset}: {'; '.join(record.digest_checker.problems)}",
            )
            return None
    except Exception as error:  # a damaged gzip member or WARC header
        result.found(ref.key, CORRUPTED, f"record at {ref.offset} unreadable: {error}")
        return None
    headers = record.rec_headers
    facts = _WarcRecordFacts(
        headers.get_header("WARC-Record-ID") or "",
        len(data),
        headers.get_header("WARC-Target-URI") or "",
        headers.get_header("WARC-Payload-Digest") or "",
    )
    return {ref.offset: facts}


def _read(store: ArchiveStore, key: str, result: Audit) -> bytes | None:
    try:
        data = store.get(key)
    except StoreError as error:
        result.found(key, MISSING, str(error))
        return None
    if data is None:
        result.found(key, MISSING, "not in the archive")
    return data
