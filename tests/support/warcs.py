"""Reading WARC captures in tests with warcio alone (not through the code under test)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator


def record_at(archive_dir: Path, key: Any, offset: Any, length: Any) -> Any:
    """The WARC record at a byte range of a stored file, content read into `.body`."""
    with (archive_dir / key).open("rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
    record = next(iter(ArchiveIterator(io.BytesIO(data))))
    record.body = record.content_stream().read()
    return record


def all_records(path: Path) -> list[Any]:
    """Every record of a WARC file, in order, with `.body` (decoded payload) and `.offset`."""
    records = []
    with path.open("rb") as handle:
        iterator = ArchiveIterator(handle)
        for record in iterator:
            record.body = record.content_stream().read()
            record.offset = iterator.get_record_offset()
            records.append(record)
    return records


def warcio_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    """`warcio check -v` on files: exit 0 when every record's digests pass."""
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
