"""The live writer: one site's WARC files in one process, opened on the first record, rotated at
a size and moved to ready/ when closed. Knows the spool folder, not the store."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from warcio.recordloader import ArcWarcRecord

from pipelines.records.layout import warc_file_name, warc_key
from pipelines.warc.format import OPEN_DIR, READY_DIR, WARC_DIR
from pipelines.warc.records import RecordBuilder, gzip_member


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
