"""After the writer: cut files that killed writers left open at their last whole record, index
closed files (CDXJ) and store them create-only. Must not import the read side."""

from __future__ import annotations

import io
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pipelines.records.layout import warc_index_key, warc_key, warc_writer_pid
from pipelines.store import ArchiveStore, StoreError
from pipelines.store.files import process_alive
from pipelines.warc.format import (
    CDXJ_CONTENT_TYPE,
    OPEN_DIR,
    READY_DIR,
    WARC_CONTENT_TYPE,
    WARC_DIR,
)


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


# The crawlers of one run close in threads of one process and each stores the closed files:
# two conditional PUTs of the same key in flight at once can both fail (S3 servers answer 409
# ConditionalRequestConflict), which left a stored file counted as pending. One at a time.
_STORING = threading.Lock()


def store_ready(store: ArchiveStore, spool_dir: str | Path) -> StoredWarcs:
    """Store every closed WARC file create-only, its CDXJ index beside it, then delete it
    locally. Stops at the first storage error: the rest wait for the next run or `flush`."""
    with _STORING:
        return _store_ready(store, spool_dir)


def _store_ready(store: ArchiveStore, spool_dir: str | Path) -> StoredWarcs:
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
