"""What every store is: the ArchiveStore protocol, its errors and its options ([archive]).
Imports nothing of the archive: the local and S3 stores build on it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class StoreOptions:
    """Where the archive is and how to reach it: the `[archive]` section of the config.

    The fields are the section's keys, types and defaults (crawler/config.py validates the
    TOML against them), so the storage side owns its settings and a reader can be opened
    without the crawler's config (`open_archive(location, endpoint_url=...)`).
    """

    location: str = field(default="./archive", metadata={"required": True})
    endpoint_url: str = ""
    region: str = ""
    addressing_style: str = field(default="auto", metadata={"choices": ("auto", "path", "virtual")})
    profile: str = ""
    spool_dir: str = "./spool"
    upload_concurrency: int = field(default=8, metadata={"minimum": 1})
    # Requests a reader that touches every object keeps in flight (verify, reparse, rebuild,
    # WACZ export): S3 answers each after tens of milliseconds, so one at a time waits.
    read_concurrency: int = field(default=64, metadata={"minimum": 1})
    retry_attempts: int = 5


class StoreError(Exception):
    """The archive cannot be used (unreachable, refused, misconfigured)."""


class StoreUnavailable(StoreError):
    """The archive is set up right but cannot be reached now (an outage, not a mistake):
    a crawl goes on into the spool instead of stopping."""


class ArchiveStore(Protocol):
    """What the pipeline and the readers need from an archive location."""

    location: str

    def put_if_absent(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> bool:
        """Store data under key unless the key exists; True when this call created it."""

    def put_file_if_absent(self, key: str, path: Path, content_type: str) -> bool:
        """Like put_if_absent, for a local file too big to hold in memory (a WARC file)."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when absent."""

    def get_range(self, key: str, offset: int, length: int) -> bytes | None:
        """`length` bytes of an object from `offset` (one ranged read), or None when absent."""

    def open_read(self, key: str) -> BinaryIO | None:
        """The object as a stream to read through once, or None when absent."""

    def exists(self, key: str) -> bool:
        """Whether the key exists (one cheap request)."""

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under a prefix, in lexical order."""
