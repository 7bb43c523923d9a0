"""What every WARC piece shares: folder and format constants, the options, where a capture lives
(WarcRef) and the payload digest. Imports nothing else of pipelines.warc."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
