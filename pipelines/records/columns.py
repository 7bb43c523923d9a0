"""A record as typed columns: what the Parquet export and the archive's catalog both hold.

One home for the column names and types (timestamps with time zone, lists of strings,
booleans, the WARC capture flattened to key/offset/length), so an analyst's Parquet export and
the catalog inside the archive read the same in DuckDB, pandas or Spark.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

TIMESTAMPS = ("published", "fetched_at", "seen_at", "archived_at", "removed_at")
STRING_LISTS = ("paragraphs", "tickers", "tags", "images", "changed_fields")


def warc_columns(row: dict[str, Any]) -> dict[str, Any]:
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


def typed_row(row: dict[str, Any]) -> dict[str, Any]:
    """A record (and the export's extra fields) as the typed columns of parquet_schema()."""
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
    out.update(warc_columns(row))
    out["month"] = str(row.get("published") or "")[:7]  # the site's own (Beijing) month
    return out
