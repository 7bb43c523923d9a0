"""Reading one capture back: a ranged read of a stored WARC file, and the body the parser saw."""

from __future__ import annotations

import io
import zlib
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from pipelines.store import ArchiveStore
from pipelines.warc.format import WarcRef


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
