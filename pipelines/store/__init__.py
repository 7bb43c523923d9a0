"""Archive stores: where bytes go. Local folder now, S3 with the same keys.

The store only knows keys and bytes: no Scrapy, no parsing. Writes are create-only
(`put_if_absent`), so nothing is ever overwritten and two writers racing on one key leave one
object; the loser learns that the key already exists.

The package, by job: `base` (the protocol, errors, options), `local` (the folder), `s3` (the
bucket), `s3_puts` (its create-only PUTs, through obstore), `files` (durable local writes);
here, the opener that picks one. It imports nothing of the records, the archive state, WARC,
the read side or the item pipeline.
"""

from __future__ import annotations

import functools

from pipelines.store.base import ArchiveStore, StoreError, StoreOptions, StoreUnavailable
from pipelines.store.local import LocalStore


def is_local(location: str) -> bool:
    """Whether an archive location is a local folder (anything but `s3://bucket/prefix`)."""
    return not location.startswith("s3://")


def open_store(options: StoreOptions) -> ArchiveStore:
    """The store for the archive settings: `s3://bucket/prefix` or a local folder."""
    if not is_local(options.location):
        from pipelines.store.s3 import S3Store

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


__all__ = [
    "ArchiveStore",
    "LocalStore",
    "StoreError",
    "StoreOptions",
    "StoreUnavailable",
    "check_store",
    "is_local",
    "open_store",
    "shared_store",
]
