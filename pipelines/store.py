"""Archive stores: where bytes go. Local folder now, S3 with the same keys.

The store only knows keys and bytes: no Scrapy, no parsing. Writes are create-only
(`put_if_absent`), so nothing is ever overwritten and two writers racing on one key leave one
object; the loser learns that the key already exists.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from pipelines.files import TMP_PREFIX, remove_dead_temps, write_temp


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


TMP_DIR = ".tmp"  # a local archive's temporary files, one folder: cheap to clean


class LocalStore:
    """A folder laid out exactly like the bucket: key `a/b/c.json` is file `<root>/a/b/c.json`.

    Any OSError (a full disk, a read-only mount, the location being a file) is a StoreError,
    so a crawl spools the item instead of dropping it.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def check(self) -> None:
        """Before a run writes: the folder exists or can be made, and takes a file. Removes
        the temporary files of killed writers."""
        temp = self.root / TMP_DIR
        try:
            temp.mkdir(parents=True, exist_ok=True)
            write_temp(temp, b"").unlink()
            remove_dead_temps(temp)
        except OSError as error:
            raise StoreError(
                f"archive folder {self.root} is not writable: {_reason(error)}"
            ) from None

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise StoreError(f"refusing key outside the archive: {key!r}")
        return self.root / key

    def put_if_absent(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> bool:
        path = self._path(key)
        try:
            if path.exists():
                return False
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = self.root / TMP_DIR
            temp.mkdir(exist_ok=True)
            # Write to a temporary file, then hard-link it into place: link() fails if the
            # name exists, which makes the publish atomic and create-only, and a crash never
            # leaves a half-written file under the real name.
            return _link_new(write_temp(temp, data), path)
        except OSError as error:
            raise StoreError(f"cannot write {key} in {self.root}: {_reason(error)}") from None

    def put_file_if_absent(self, key: str, path: Path, content_type: str) -> bool:
        target = self._path(key)
        try:
            if target.exists():
                return False
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = self.root / TMP_DIR
            temp.mkdir(exist_ok=True)
            try:
                # Same file system (the spool beside the archive): the file is closed and
                # synced and its writer unlinks it next, so a hard link is the whole copy.
                os.link(path, target)
                return True
            except FileExistsError:
                return False
            except OSError:
                pass  # another file system: copy below
            tmp = write_temp(temp, b"")
            try:
                with path.open("rb") as source, tmp.open("wb") as copy:
                    shutil.copyfileobj(source, copy, 1 << 20)
                    copy.flush()
                    os.fsync(copy.fileno())
            except BaseException:
                os.unlink(tmp)
                raise
            return _link_new(tmp, target)
        except OSError as error:
            raise StoreError(f"cannot write {key} in {self.root}: {_reason(error)}") from None

    def get_range(self, key: str, offset: int, length: int) -> bytes | None:
        try:
            with self._path(key).open("rb") as handle:
                handle.seek(offset)
                return handle.read(length)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreError(f"cannot read {key} in {self.root}: {_reason(error)}") from None

    def open_read(self, key: str) -> BinaryIO | None:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreError(f"cannot read {key} in {self.root}: {_reason(error)}") from None

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreError(f"cannot read {key} in {self.root}: {_reason(error)}") from None

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except OSError as error:
            raise StoreError(f"cannot read {self.root}: {_reason(error)}") from None

    def list(self, prefix: str) -> Iterator[str]:
        # Walk only the folder the prefix names, not the whole archive.
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self._path(folder) if folder else self.root
        if not start.is_dir():
            return
        for path in sorted(start.rglob("*")):
            if path.is_file() and not path.name.startswith(TMP_PREFIX):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and not key.startswith(f"{TMP_DIR}/"):
                    yield key


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _link_new(tmp: Path, target: Path) -> bool:
    """Publish a finished temporary file under its real name, create-only (link() fails if
    the name exists), and drop the temporary name either way."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True


def is_local(location: str) -> bool:
    """Whether an archive location is a local folder (anything but `s3://bucket/prefix`)."""
    return not location.startswith("s3://")


def open_store(options: StoreOptions) -> ArchiveStore:
    """The store for the archive settings: `s3://bucket/prefix` or a local folder."""
    if not is_local(options.location):
        from pipelines.s3store import S3Store

        return S3Store.from_options(options)
    return LocalStore(options.location)


@functools.lru_cache(maxsize=8)
def shared_store(options: StoreOptions) -> ArchiveStore:
    """One store per archive setting and process: the CLI, the pipeline and the archive state
    of every crawler in a run share it (one S3 client, one connection pool, one check)."""
    return open_store(options)


def check_store(store: ArchiveStore) -> None:
    """Fail fast if the store cannot be used (a local folder is created on first write).

    Checked once per store object: a run's CLI and its crawlers share one store."""
    check = getattr(store, "check", None)
    if check is not None and not getattr(store, "checked", False):
        check()
        store.checked = True  # type: ignore[attr-defined]
