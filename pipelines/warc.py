"""WARC files (ISO 28500, WARC/1.1): every HTTP exchange of a run, kept the standard way.

Why a separate file per site and run rather than one object per page: replay tools (pywb,
ReplayWeb.page) and archivists expect the exchange itself (request, response headers, payload
as it crossed the wire) in WARC containers, and one file per run costs two S3 requests (the
file and its CDXJ index) instead of one per page.

Each record is its own gzip member, so a record is a byte range: an article record names the
WARC key, offset and length of its capture (`WarcRef`), and reading it back is one ranged
read. Files are written under the spool folder while a run fetches (`warc/open/`), closed at
a configured size and at the end of every run (`warc/ready/`), then stored create-only with
their CDXJ index beside them. A file left open by a killed process is cut at its last complete
gzip member (a record whose gzip trailer checks) before it is stored, so nothing half-written
ever reaches the archive. This module knows files, records and keys; no Scrapy.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.files import process_alive
from pipelines.layout import warc_file_name, warc_index_key, warc_key, warc_writer_pid
from pipelines.store import ArchiveStore, StoreError

WARC_DIR = "warc"  # under the spool folder
OPEN_DIR = "open"  # files being written (their writer's pid is in the name)
READY_DIR = "ready"  # closed files waiting to be stored
WARC_VERSION = "1.1"
MIB = 1024 * 1024
WARC_CONTENT_TYPE = "application/warc"
CDXJ_CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class WarcOptions:
    """`[warc]`: whether every exchange is captured, when a file rotates, who operates it."""

    enabled: bool = True
    rotate_mib: float = field(default=1024, metadata={"minimum": 0.001})
    operator: str = ""  # written into each file's warcinfo record (a name and a contact)


@dataclass(frozen=True)
class WarcRef:
    """Where one capture lives: a record of a stored WARC file, and the records that belong
    with it (its request record; for a rendered page, the response it was rendered from)."""

    key: str
    offset: int
    length: int
    record_id: str
    record_type: str
    uri: str
    date: str
    payload_digest: str | None
    related: tuple[tuple[str, int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "offset": self.offset,
            "length": self.length,
            "record_id": self.record_id,
            "record_type": self.record_type,
            "uri": self.uri,
            "date": self.date,
            "payload_digest": self.payload_digest,
            "related": [list(r) for r in self.related],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WarcRef:
        values = dict(data)
        values["related"] = tuple((str(k), int(o), int(n)) for k, o, n in data.get("related", ()))
        return cls(**values)

    def ranges(self) -> list[tuple[str, int, int]]:
        """Every record of the capture as (key, offset, length), the capture itself first."""
        return [(self.key, self.offset, self.length), *self.related]


def payload_digest(payload: bytes) -> str:
    """The WARC payload digest as warcio writes it (sha1, base32): equal digests mean an
    identical payload, which is what a revisit record claims."""
    return "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    """WARC/1.1 date: UTC with microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RecordBuilder:
    """warcio record construction with our conventions (WARC/1.1, digests always computed)."""

    def __init__(self) -> None:
        self._writer = WARCWriter(io.BytesIO(), gzip=True, warc_version=WARC_VERSION)

    def response(
        self,
        uri: str,
        status_line: str,
        protocol: str,
        headers: Sequence[tuple[str, str]],
        payload: bytes,
        when: datetime,
        ip_address: str | None,
    ) -> ArcWarcRecord:
        http = StatusAndHeaders(status_line, list(headers), protocol=protocol)
        return self._writer.create_warc_record(
            uri, "response", payload=io.BytesIO(payload), length=len(payload),
            http_headers=http, warc_headers_dict=_warc_headers(when, ip_address),
        )  # fmt: skip

    def request(
        self,
        uri: str,
        request_line: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        when: datetime,
        concurrent_to: str,
    ) -> ArcWarcRecord:
        http = StatusAndHeaders(request_line, list(headers), is_http_request=True)
        extra = {**_warc_headers(when, None), "WARC-Concurrent-To": concurrent_to}
        return self._writer.create_warc_record(
            uri, "request", payload=io.BytesIO(body), length=len(body),
            http_headers=http, warc_headers_dict=extra,
        )  # fmt: skip

    def revisit(
        self,
        uri: str,
        status_line: str,
        protocol: str,
        headers: Sequence[tuple[str, str]],
        when: datetime,
        ip_address: str | None,
        original: WarcRef,
    ) -> ArcWarcRecord:
        """Headers only: the payload is identical to `original`'s (same payload digest)."""
        http = StatusAndHeaders(status_line, list(headers), protocol=protocol)
        extra = {**_warc_headers(when, ip_address), "WARC-Refers-To": original.record_id}
        return self._writer.create_revisit_record(
            uri, original.payload_digest, original.uri, original.date, http_headers=http,
            warc_headers_dict=extra,
        )  # fmt: skip

    def conversion(
        self, uri: str, content: bytes, content_type: str, when: datetime, refers_to: str | None
    ) -> ArcWarcRecord:
        """A rendering of a response (the DOM Chromium built), pointing at that response."""
        extra = _warc_headers(when, None)
        if refers_to:
            extra["WARC-Refers-To"] = refers_to
        return self._writer.create_warc_record(
            uri, "conversion", payload=io.BytesIO(content), length=len(content),
            warc_content_type=content_type, warc_headers_dict=extra,
        )  # fmt: skip

    def warcinfo(self, filename: str, info: dict[str, str]) -> ArcWarcRecord:
        return self._writer.create_warcinfo_record(filename, info)


def _warc_headers(when: datetime, ip_address: str | None) -> dict[str, str]:
    headers = {"WARC-Date": warc_date(when)}
    if ip_address:
        headers["WARC-IP-Address"] = ip_address
    return headers


def status_line(status: int) -> str:
    """`200 OK`: the status line of a response whose reason phrase was not kept."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def record_id(record: ArcWarcRecord) -> str:
    return str(record.rec_headers.get_header("WARC-Record-ID"))


class WarcRecorder:
    """The WARC files of one site in one process: opened on the first record, rotated at
    `rotate_bytes`, closed (moved to `ready/`) by `close()`."""

    def __init__(self, spool_dir: str | Path, site: str, info: dict[str, str], rotate_bytes: int):
        self.folder = Path(spool_dir) / WARC_DIR
        self.site = site
        self.info = info
        self.rotate_bytes = rotate_bytes
        self.builder = RecordBuilder()
        self._handle: BinaryIO | None = None
        self._path: Path | None = None
        self._key = ""
        self._serial = 0
        self._lock = threading.Lock()

    def write(self, records: Sequence[ArcWarcRecord]) -> list[tuple[str, int, int]]:
        """Append records (one gzip member each); (key, offset, length) of each. The bytes
        are flushed to the OS before this returns, so a killed process keeps them. Safe to
        call from several threads: members are compressed outside the lock, then appended
        in one piece."""
        members = [gzip_member(record) for record in records]
        with self._lock:
            if self._handle is None:
                self._open()
            assert self._handle is not None
            places = []
            for member in members:
                start = self._handle.tell()
                self._handle.write(member)
                places.append((self._key, start, len(member)))
            self._handle.flush()
            if self._handle.tell() >= self.rotate_bytes:
                self._close()
        return places

    def _open(self) -> None:
        self._serial += 1
        name = warc_file_name(self.site, datetime.now(UTC), os.getpid(), self._serial)
        (self.folder / OPEN_DIR).mkdir(parents=True, exist_ok=True)
        self._path = self.folder / OPEN_DIR / name
        self._key = warc_key(name)
        self._handle = self._path.open("xb")
        self._handle.write(gzip_member(self.builder.warcinfo(name, self.info)))

    def close(self) -> None:
        """Close the current file (synced to disk) and hand it to the uploads."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._handle is None or self._path is None:
            return
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None
        (self.folder / READY_DIR).mkdir(parents=True, exist_ok=True)
        os.replace(self._path, self.folder / READY_DIR / self._path.name)
        self._path = None


# zlib level 4: a third of the CPU of warcio's level 9 for about 7% more bytes on news pages
# (measured on the fixture pages); the capture runs for every response of a crawl.
GZIP_LEVEL = 4


def gzip_member(record: ArcWarcRecord) -> bytes:
    """A record serialised by warcio, as one gzip member of its own (so a byte range of the
    file is a record, readable alone)."""
    plain = io.BytesIO()
    WARCWriter(plain, gzip=False, warc_version=WARC_VERSION).write_record(record)
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(plain.getvalue()) + compressor.flush()


def gzip_members(stream: IO[bytes], chunk_size: int = 1 << 16) -> Iterator[tuple[int, int]]:
    """(offset, length) of each complete gzip member of a stream, in order. Stops before a
    member cut short; raises zlib.error for a member whose data or checksum is bad."""
    start = 0  # where the current member starts in the stream
    fed = 0  # how many of its bytes the decompressor has had, before the current buffer
    member = zlib.decompressobj(wbits=31)
    buffer = b""
    while True:
        if not buffer:
            buffer = stream.read(chunk_size)
            if not buffer:
                return  # the end: a member begun but not finished is not yielded
        member.decompress(buffer)
        if member.eof:
            length = fed + len(buffer) - len(member.unused_data)
            yield start, length
            start, fed = start + length, 0
            buffer = member.unused_data
            member = zlib.decompressobj(wbits=31)
        else:
            fed += len(buffer)
            buffer = b""


def complete_length(path: Path) -> int:
    """How many leading bytes of a WARC file are whole records (gzip members that check)."""
    end = 0
    with path.open("rb") as handle:
        try:
            for offset, length in gzip_members(handle):
                end = offset + length
        except zlib.error:
            pass  # a damaged member: keep what came before it
    return end


@dataclass
class Recovered:
    """What `recover` did with the files killed writers left open."""

    closed: int = 0  # cut at their last complete record and handed to the uploads
    removed: int = 0  # nothing but a warcinfo record (or nothing at all) in them
    cut_bytes: int = 0


def recover(spool_dir: str | Path) -> Recovered:
    """Close the WARC files of writers that are gone: cut each at its last complete record,
    then hand it to the uploads. Files of live processes (this one too) are left alone."""
    result = Recovered()
    folder = Path(spool_dir) / WARC_DIR
    for path in sorted((folder / OPEN_DIR).glob("*.warc.gz")):
        pid = warc_writer_pid(path.name)
        if pid is not None and (pid == os.getpid() or process_alive(pid)):
            continue
        end = complete_length(path)
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.truncate(end)
            os.fsync(handle.fileno())
        result.cut_bytes += size - end
        with path.open("rb") as handle:
            records = sum(1 for _ in gzip_members(handle))
        if records <= 1:  # the warcinfo record alone captures nothing
            path.unlink()
            result.removed += 1
            continue
        (folder / READY_DIR).mkdir(parents=True, exist_ok=True)
        os.replace(path, folder / READY_DIR / path.name)
        result.closed += 1
    return result


def ready_files(spool_dir: str | Path, site: str | None = None) -> list[Path]:
    """Closed WARC files not stored yet (of one site, or all), except those another live
    process wrote: it stores its own files as it ends (several crawls or workers may share
    one spool), so they are neither taken over nor counted as waiting here."""
    pattern = f"newsarchive-{site}-*.warc.gz" if site else "*.warc.gz"
    files = sorted((Path(spool_dir) / WARC_DIR / READY_DIR).glob(pattern))
    return [path for path in files if not _another_live_writer(path)]


def _another_live_writer(path: Path) -> bool:
    pid = warc_writer_pid(path.name)
    return pid is not None and pid != os.getpid() and process_alive(pid)


def cdxj_index(path: Path, filename: str) -> bytes:
    """The CDXJ index of a WARC file (cdxj-indexer: sorted SURT keys), naming it `filename`."""
    from cdxj_indexer import CDXJIndexer

    out = io.StringIO()
    with path.open("rb") as handle:
        CDXJIndexer(output=out, inputs=[handle], sort=True, filename=filename).process_all()
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class StoredWarcs:
    stored: int
    pending: int


def store_ready(store: ArchiveStore, spool_dir: str | Path) -> StoredWarcs:
    """Store every closed WARC file create-only, its CDXJ index beside it, then delete it
    locally. Stops at the first storage error: the rest wait for the next run or `flush`."""
    waiting = ready_files(spool_dir)
    stored = 0
    for path in waiting:
        key = warc_key(path.name)
        try:
            index = cdxj_index(path, path.name)
            store.put_file_if_absent(key, path, WARC_CONTENT_TYPE)
            store.put_if_absent(warc_index_key(key), index, CDXJ_CONTENT_TYPE)
        except FileNotFoundError:
            pass  # another crawler of this process stored it a moment ago
        except StoreError:
            break
        path.unlink(missing_ok=True)
        stored += 1
    return StoredWarcs(stored=stored, pending=len(waiting) - stored)


class CaptureMissing(Exception):
    """The capture an archived record names cannot be read (not stored yet, or damaged)."""


def read_record(store: ArchiveStore, key: str, offset: int, length: int) -> ArcWarcRecord:
    """One record of a stored WARC file (one ranged read), its content fully loaded."""
    data = store.get_range(key, offset, length)
    if data is None:
        raise CaptureMissing(f"{key} is not in the archive (still waiting in a spool?)")
    try:
        record = next(iter(ArchiveIterator(io.BytesIO(data))))
    except (StopIteration, ValueError, OSError, zlib.error) as error:
        raise CaptureMissing(f"{key} at {offset}: not a WARC record ({error})") from None
    return record


def captured_body(store: ArchiveStore, capture: dict[str, Any]) -> bytes:
    """The body the parser read, from its WARC capture: the decoded payload of a response
    (content encoding undone), or the content of a conversion (a rendered DOM)."""
    ref = WarcRef.from_dict(capture)
    record = read_record(store, ref.key, ref.offset, ref.length)
    if record.rec_headers.get_header("WARC-Record-ID") != ref.record_id:
        raise CaptureMissing(f"{ref.key} at {ref.offset}: not the record {ref.record_id}")
    if ref.record_type == "revisit" and ref.related:
        # The payload is the one the revisit repeats (identical digest): read it there.
        record = read_record(store, *ref.related[0])
    body: bytes = record.content_stream().read()
    return body
