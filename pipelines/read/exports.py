"""Exports for the tools analysts read the archive with: JSON Lines, CSV and Parquet.

- JSON Lines: every field of each record as stored, plus `removed` and `removed_at` (the
  article's latest removal marker), one line per article's newest version (or per version).
- CSV: a flat column set (CSV_COLUMNS), one representation per column: lists and objects as
  JSON, booleans as `true`/`false`, absent values empty.
- Parquet (pyarrow): typed columns (PARQUET_SCHEMA: timestamps with time zone, lists of
  strings, booleans), partitioned `site=<site>/month=<YYYY-MM>` by publication month.

Rows are the records as stored, read from the catalog (no request per article), or one GET
each from an archive without one; removals come from the markers (one LIST per site). A
record that cannot be read is named and skipped, never the end of the export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pipelines.read.reader import ArchiveReader
from pipelines.records.columns import parquet_schema, typed_row, warc_columns
from pipelines.records.day_index import IndexEntry
from pipelines.records.record_schema import record_schema

# The flat columns of a CSV export, in this order (README "Exports").
CSV_COLUMNS = (
    "site",
    "id",
    "version",
    "published",
    "title",
    "original_title",
    "summary",
    "language",
    "machine_translated",
    "outlet",
    "source",
    "author",
    "editor",
    "tickers",
    "tags",
    "images",
    "url",
    "source_url",
    "fetched_url",
    "fetched_at",
    "seen_at",
    "archived_at",
    "http_status",
    "rendered_by",
    "parser",
    "parser_version",
    "extraction",
    "layout_tried",
    "layout_version",
    "content_sha256",
    "changed_fields",
    "previous_key",
    "text_key",
    "raw_key",
    "warc_key",
    "warc_offset",
    "warc_length",
    "removed",
    "removed_at",
    "text",
)
PARQUET_ROWS_PER_BATCH = 1000


@dataclass
class ExportSummary:
    rows: int = 0
    unreadable: list[str] = field(default_factory=list)  # record keys that could not be read


def export_rows(
    reader: ArchiveReader,
    entries: Iterator[IndexEntry],
    summary: ExportSummary,
    progress: Callable[[int], object] | None = None,
) -> Iterator[dict[str, Any]]:
    """Each entry's record as stored, plus `removed`/`removed_at` and the record's key."""
    removals: dict[tuple[str, str], dict[str, Any]] = {}
    sites_read: set[str] = set()
    for entry in entries:
        if entry.site not in sites_read:
            removals.update(reader.removals(entry.site))
            sites_read.add(entry.site)
        record = getattr(entry, "stored_record", None)  # listed with it: no request
        if record is None:
            record = _stored_record(reader, entry.record_key)
        if not isinstance(record, dict):
            summary.unreadable.append(entry.record_key)
            continue
        for name in record_schema()["properties"]:  # the same fields on every line
            record.setdefault(name, None)
        marker = removals.get((entry.site, entry.id), {})
        removed = marker.get("event") == "removed"
        record["removed"] = removed
        record["removed_at"] = marker.get("first_seen_gone") if removed else None
        record["record_key"] = entry.record_key
        summary.rows += 1
        if progress is not None:
            progress(1)
        yield record


def _stored_record(reader: ArchiveReader, key: str) -> Any:
    body = reader.store.get(key)
    try:
        return json.loads(body) if body is not None else None
    except ValueError:
        return None


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[str]) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_csv(rows: Iterator[dict[str, Any]], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        flat = {**row, **warc_columns(row)}
        writer.writerow([_csv_value(flat.get(column)) for column in CSV_COLUMNS])


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_parquet(rows: Iterator[dict[str, Any]], folder: Path) -> None:
    """Hive-partitioned Parquet files under `folder` (site=/month=), written batch by batch."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    schema = parquet_schema()

    def batches() -> Iterator[Any]:
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(typed_row(row))
            if len(chunk) >= PARQUET_ROWS_PER_BATCH:
                yield pa.RecordBatch.from_pylist(chunk, schema=schema)
                chunk = []
        if chunk:
            yield pa.RecordBatch.from_pylist(chunk, schema=schema)

    ds.write_dataset(
        batches(),
        folder,
        schema=schema,
        format="parquet",
        partitioning=ds.partitioning(
            pa.schema([("site", pa.string()), ("month", pa.string())]), flavor="hive"
        ),
        existing_data_behavior="overwrite_or_ignore",
        basename_template="part-{i}.parquet",
    )
