"""The local folder store: key `a/b/c.json` is file `<root>/a/b/c.json`, written create-only
through a temporary file and a hard link, so the folder has exactly the bucket's layout."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from pipelines.store.base import StoreError
from pipelines.store.files import TMP_PREFIX, remove_dead_temps, write_temp

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
