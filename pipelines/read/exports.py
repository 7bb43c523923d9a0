"""Exports for the tools analysts read the archive with: JSON Lines, CSV and Parquet.

- JSON Lines: every field of each record as stored, plus `removed` and `removed_at` (the
  article's latest removal marker), one line per article's newest version (or per version).
- CSV: a flat column set (CSV_COLUMNS), one representation per column: lists and objects as
  JSON, booleans as `true`/`false`, absent values empty.
- Parquet (pyarrow): typed columns (PARQUET_SCHEMA: timestamps with time zone, lists of
  strings, booleans), partitioned `site=<site>/month=<YYYY-MM>` by publication month.

Rows come from the records themselves (one GET each); removals from the markers (one LIST per
site). A record that cannot be read is named and skipped, never the end of the export.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pipelines.read.reader import ArchiveReader
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
TIMESTAMPS = ("published", "fetched_at", "seen_at", "archived_at", "removed_at")
STRING_LISTS = ("paragraphs", "tickers", "tags", "images", "changed_fields")
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
        body = reader.store.get(entry.record_key)
        try:
            record = json.loads(body) if body is not None else None
        except ValueError:
            record = None
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


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[str]) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_csv(rows: Iterator[dict[str, Any]], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        flat = {**row, **_warc_columns(row)}
        writer.writerow([_csv_value(flat.get(column)) for column in CSV_COLUMNS])


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _warc_columns(row: dict[str, Any]) -> dict[str, Any]:
    capture = row.get("warc") or {}
    return {
        "warc_key": capture.get("key"),
        "warc_offset": capture.get("offset"),
        "warc_length": capture.get("length"),
    }


@functools.cache
def parquet_schema() -> Any:
    """The Parquet export's columns and types (pyarrow is imported only for this format)."""
    import pyarrow as pa

    text, stamp, strings = pa.string(), pa.timestamp("us", tz="UTC"), pa.list_(pa.string())
    return pa.schema(
        [
            ("site", text),
            ("id", text),
            ("version", pa.int32()),
            ("published", stamp),
            ("title", text),
            ("original_title", text),
            ("summary", text),
            ("language", text),
            ("machine_translated", pa.bool_()),
            ("outlet", text),
            ("source", text),
            ("author", text),
            ("editor", text),
            ("tickers", strings),
            ("tags", strings),
            ("images", strings),
            ("paragraphs", strings),
            ("text", text),
            ("url", text),
            ("source_url", text),
            ("fetched_url", text),
            ("fetched_at", stamp),
            ("seen_at", stamp),
            ("archived_at", stamp),
            ("http_status", pa.int32()),
            ("http_headers", pa.map_(text, text)),
            ("rendered_by", text),
            ("parser", text),
            ("parser_version", text),
            ("extraction", text),
            ("layout_tried", text),
            ("layout_version", pa.int32()),
            ("content_sha256", text),
            ("changed_fields", strings),
            ("previous_key", text),
            ("text_key", text),
            ("raw_key", text),
            ("record_key", text),
            ("warc_key", text),
            ("warc_offset", pa.int64()),
            ("warc_length", pa.int64()),
            ("extra", text),
            ("removed", pa.bool_()),
            ("removed_at", stamp),
            ("month", text),
        ]
    )


def write_parquet(rows: Iterator[dict[str, Any]], folder: Path) -> None:
    """Hive-partitioned Parquet files under `folder` (site=/month=), written batch by batch."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    schema = parquet_schema()

    def batches() -> Iterator[Any]:
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(_parquet_row(row))
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


def _parquet_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {name: row.get(name) for name in parquet_schema().names}
    for name in TIMESTAMPS:
        value = row.get(name)
        out[name] = datetime.fromisoformat(value).astimezone(UTC) if value else None
    for name in STRING_LISTS:
        value = row.get(name)
        out[name] = None if value is None else [str(v) for v in value]
    headers = row.get("http_headers") or {}
    out["http_headers"] = [(str(k), str(v)) for k, v in headers.items()]
    out["extra"] = json.dumps(row.get("extra") or {}, ensure_ascii=False)
    out.update(_warc_columns(row))
    out["month"] = str(row.get("published") or "")[:7]  # the site's own (Beijing) month
    return out
