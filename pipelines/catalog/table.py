"""The catalog: every stored version of every article as one Delta Lake table in the archive.

Why a table format and not a folder of Parquet files: the catalog must list each stored
version exactly once while runs append to it, several workers and both sites' crawls commit
at the same moment, a writer is killed half way and small files are merged. Delta Lake gives
that with files alone: a version of the table is the set of Parquet files its log names, a
commit is one create-only log object (a conditional PUT on S3, a rename on a local disk), and
a reader sees one committed version, never a half-written file or the merged file beside the
ones it replaces. A run's rows are committed once: the commit carries the run journal's name
as a Delta application transaction, so publishing it again (a kill after the commit, before
the journal was deleted) finds it done.

The columns are the Parquet export's (pipelines/records/columns.py) without the removal
fields (removals are markers, read when the catalog is), plus `day` (the Beijing publication
day), the record object's `record_sha256` and `record_size` (for fixity audits), and
`record`: the record itself as JSON, so an export from the catalog is the records as stored.
Partitioned `site=/month=` like the export; readers read one partition at a time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from crawler.items import BEIJING
from pipelines.catalog.location import TableLocation, table_location
from pipelines.records.columns import parquet_schema, typed_row
from pipelines.records.layout import catalog_month, segment_day
from pipelines.store import ArchiveStore, StoreError

PARTITIONS = ("site", "month")
EXPORT_ONLY = ("removed", "removed_at")
CATALOG_ONLY = (("day", "string"), ("record_sha256", "string"), ("record_size", "int64"))
ROWS_PER_BATCH = 1000
TARGET_FILE_BYTES = 128 * 1024 * 1024  # what compaction merges small files into
# Delta writes a checkpoint every this many commits, so a reader loads the table from one
# Parquet checkpoint and a few commit files, however many nightly runs appended.
TABLE_CONFIGURATION = {"delta.checkpointInterval": "20"}


_LOCAL = object()  # a local table: pyarrow reads its files by path


class CatalogError(StoreError):
    """The catalog cannot be read or written (its journals wait in the spool)."""


@functools.cache
def catalog_schema() -> Any:
    import pyarrow as pa

    fields = [f for f in parquet_schema() if f.name not in EXPORT_ONLY]
    extra = [pa.field(name, getattr(pa, kind)()) for name, kind in CATALOG_ONLY]
    return pa.schema([*fields, *extra, pa.field("record", pa.string())])


def catalog_row(
    record: dict[str, Any], record_key: str, record_sha256: str | None, record_size: int | None
) -> dict[str, Any]:
    """One stored version as a catalog row (typed columns, plus the record as JSON)."""
    row = typed_row({**record, "record_key": record_key})
    for name in EXPORT_ONLY:
        row.pop(name, None)
    published = row["published"]  # the day and month the record's key is filed under
    row["month"] = catalog_month(published) if published else ""
    row["day"] = f"{published.astimezone(BEIJING):%Y-%m-%d}" if published else ""
    row["record_sha256"] = record_sha256
    row["record_size"] = record_size
    row["record"] = json.dumps(record, ensure_ascii=False, sort_keys=True)
    return row


def batches_of(rows: Iterable[dict[str, Any]]) -> Iterator[Any]:
    """Catalog rows as Arrow record batches of ROWS_PER_BATCH (memory stays bounded)."""
    import pyarrow as pa

    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= ROWS_PER_BATCH:
            yield pa.RecordBatch.from_pylist(chunk, schema=catalog_schema())
            chunk = []
    if chunk:
        yield pa.RecordBatch.from_pylist(chunk, schema=catalog_schema())


class Catalog:
    """The catalog table of one archive location."""

    def __init__(self, location: TableLocation) -> None:
        self.location = location
        self._snapshot: Any | None = None
        self._files: Any | None = None  # pyarrow's filesystem of the table's files

    def snapshot(self) -> Any | None:
        """The table as this reader first loaded it (one version for all its reads)."""
        if self._snapshot is None:
            self._snapshot = self.table()
        return self._snapshot

    @classmethod
    def of(cls, store: ArchiveStore) -> Catalog:
        return cls(table_location(store))

    def table(self) -> Any | None:
        """The table at its newest version, or None when the archive has no catalog yet."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        try:
            return DeltaTable(self.location.uri, storage_options=self.location.storage_options)
        except TableNotFoundError:
            return None
        except Exception as error:  # deltalake's errors are plain exceptions
            raise CatalogError(
                f"the catalog at {self.location} cannot be read: {_why(error)}"
            ) from None

    def _table_or_create(self) -> Any:
        from deltalake import DeltaTable

        table = self.table()
        if table is not None:
            return table
        try:
            DeltaTable.create(
                self.location.uri,
                schema=catalog_schema(),
                partition_by=list(PARTITIONS),
                mode="ignore",
                name="newsarchive catalog",
                configuration=TABLE_CONFIGURATION,
                storage_options=self.location.storage_options,
            )
        except Exception as error:  # another writer created it a moment ago: use theirs
            if self.table() is None:
                raise CatalogError(
                    f"cannot create the catalog at {self.location}: {_why(error)}"
                ) from None
        table = self.table()
        assert table is not None
        return table

    def append_once(self, name: str, rows: Sequence[dict[str, Any]]) -> bool:
        """Commit rows as the transaction `name`, unless a commit of that name is in the
        table already (then False: they are there)."""
        from deltalake import CommitProperties, Transaction, write_deltalake

        table = self._table_or_create()
        if table.transaction_version(name) is not None:
            return False
        if not rows:
            return False
        import pyarrow as pa

        data = pa.Table.from_batches(list(batches_of(rows)), schema=catalog_schema())
        try:
            write_deltalake(
                table,
                data,
                mode="append",
                writer_properties=_writer_properties(),
                commit_properties=CommitProperties(app_transactions=[Transaction(name, 1)]),
            )
        except Exception as error:
            raise CatalogError(
                f"cannot commit to the catalog at {self.location}: {_why(error)}"
            ) from None
        return True

    def replace(
        self,
        rows: Iterable[dict[str, Any]],
        site: str | None,
        since: date | None,
        until: date | None,
    ) -> None:
        """Replace the rows of a range (a site, Beijing publication days) by `rows`, in one
        commit: readers see the old rows or the new ones, never neither."""
        import pyarrow as pa
        from deltalake import write_deltalake

        table = self._table_or_create()
        predicate = range_predicate(site, since, until)
        stream = pa.RecordBatchReader.from_batches(catalog_schema(), batches_of(rows))
        try:
            write_deltalake(
                table,
                stream,
                mode="overwrite",
                predicate=predicate,
                writer_properties=_writer_properties(),
            )
        except Exception as error:
            raise CatalogError(
                f"cannot rebuild the catalog at {self.location}: {_why(error)}"
            ) from None

    def partitions(
        self, site: str, since: date | None = None, until: date | None = None
    ) -> list[str]:
        """The months of one site the table holds rows of, in order, within the range."""
        table = self.snapshot()
        if table is None:
            return []
        first = f"{since:%Y-%m}" if since else ""
        last = f"{until:%Y-%m}" if until else "9999-99"
        months = {p["month"] for p in table.partitions() if p.get("site") == site}
        return sorted(m for m in months if first <= m <= last)

    def rows(
        self,
        site: str,
        since: date | None = None,
        until: date | None = None,
        columns: Sequence[str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """The rows of one site in range, one month partition at a time (oldest first): a
        few ranged reads per partition's files, never one request per article."""
        for month in self.partitions(site, since, until):
            yield self.month_rows(site, month, since, until, columns)

    def month_files(self, site: str, month: str) -> list[str]:
        """The data files of one site and month in this reader's table version."""
        table = self.snapshot()
        if table is None:
            return []
        return list(
            table.file_uris(file_pruning_predicate=[("site", "=", site), ("month", "=", month)])
        )

    def month_rows(
        self,
        site: str,
        month: str,
        since: date | None = None,
        until: date | None = None,
        columns: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The rows of one site and month (`YYYY-MM`) published within the range."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        table = self.snapshot()
        if table is None:
            return []
        where = [("site", "=", site), ("month", "=", month)]
        files = [_path_of(uri) for uri in table.file_uris(file_pruning_predicate=where)]
        condition = None
        if since is not None:
            condition = pc.field("day") >= since.isoformat()
        if until is not None:
            upper = pc.field("day") <= until.isoformat()
            condition = upper if condition is None else condition & upper
        wanted = [c for c in columns or catalog_schema().names if c not in PARTITIONS]
        try:
            dataset = ds.dataset(
                files, schema=_file_schema(), format="parquet", filesystem=self._filesystem()
            )
            chunk = dataset.to_table(columns=wanted, filter=condition)
        except Exception as error:
            raise CatalogError(
                f"the catalog at {self.location} cannot be read: {_why(error)}"
            ) from None
        for name in PARTITIONS:
            if columns is None or name in columns:
                value = site if name == "site" else month
                chunk = chunk.append_column(name, pa.array([value] * len(chunk), pa.string()))
        return chunk.to_pylist()

    def _filesystem(self) -> Any:
        if self._files is None:
            self._files = self.location.filesystem() or _LOCAL
        return None if self._files is _LOCAL else self._files

    def present(self, record_keys: Sequence[str]) -> set[str]:
        """Which of these records the table has a row of (reads their months' keys only)."""
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        table = self.table()
        if table is None:
            return set()
        found: set[str] = set()
        by_month: dict[tuple[str, str], list[str]] = {}
        for key in record_keys:
            day = segment_day(key)  # articles/<site>/<YYYY>/<MM>/<DD>/...
            if day is not None:
                by_month.setdefault((key.split("/")[1], f"{day:%Y-%m}"), []).append(key)
        try:
            for (site, month), keys in by_month.items():
                where = [("site", "=", site), ("month", "=", month)]
                files = [_path_of(uri) for uri in table.file_uris(file_pruning_predicate=where)]
                dataset = ds.dataset(
                    files, schema=_file_schema(), format="parquet", filesystem=self._filesystem()
                )
                held = dataset.to_table(
                    columns=["record_key"], filter=pc.field("record_key").isin(keys)
                )
                found.update(held.column("record_key").to_pylist())
        except Exception as error:
            raise CatalogError(
                f"the catalog at {self.location} cannot be read: {_why(error)}"
            ) from None
        return found

    def compact(self) -> dict[str, Any]:
        """Merge small files (one commit that readers see whole), write a checkpoint, and
        delete files no version of the last week refers to (Delta's own retention)."""
        table = self.table()
        if table is None:
            return {"files_added": 0, "files_removed": 0, "files_deleted": 0}
        try:
            merged = table.optimize.compact(
                target_size=TARGET_FILE_BYTES, writer_properties=_writer_properties()
            )
            table.create_checkpoint()
            deleted = table.vacuum(dry_run=False)
            table.cleanup_metadata()
        except Exception as error:
            raise CatalogError(
                f"cannot compact the catalog at {self.location}: {_why(error)}"
            ) from None
        return {
            "files_added": merged.get("numFilesAdded", 0),
            "files_removed": merged.get("numFilesRemoved", 0),
            "files_deleted": len(deleted),
            "version": table.version(),
        }


@functools.cache
def _file_schema() -> Any:
    """The columns inside a data file: Delta keeps the partition columns in its path."""
    import pyarrow as pa

    return pa.schema([f for f in catalog_schema() if f.name not in PARTITIONS])


def _path_of(uri: str) -> str:
    """A data file's URI as pyarrow's filesystem names it (`bucket/key`, or a local path)."""
    return uri.removeprefix("s3://").removeprefix("file://")


def range_predicate(site: str | None, since: date | None, until: date | None) -> str | None:
    """The rows of a range as a Delta predicate (None: the whole table)."""
    parts = []
    if site:
        parts.append(f"site = '{_literal(site)}'")
    if since:  # the month bounds first: they prune whole partitions
        parts.append(f"month >= '{since:%Y-%m}' AND day >= '{since.isoformat()}'")
    if until:
        parts.append(f"month <= '{until:%Y-%m}' AND day <= '{until.isoformat()}'")
    return " AND ".join(parts) or None


def _literal(value: str) -> str:
    return value.replace("'", "''")


@functools.cache
def _writer_properties() -> Any:
    from deltalake import WriterProperties

    return WriterProperties(compression="ZSTD")


def _why(error: BaseException) -> str:
    """An error's first line, never the storage options (credentials) it may carry."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:300]
