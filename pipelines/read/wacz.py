"""WACZ 1.1.1 export: a range of the archive as one package any replay tool opens.

ReplayWeb.page, pywb and the `wacz` tools read WACZ: a ZIP holding the WARC records, a CDXJ
index of them, a page list and a datapackage.json with the sha256 and size of every file.
The records are copied byte for byte from the stored WARC files (each record is its own gzip
member, so ranges concatenate into a valid WARC file and keep their digests). Articles archived
before WARC capture have only their body and headers: they become `response` records whose
headers are rewritten to match the stored, decoded payload, dated when they were fetched.
The page list carries our clean text, so a reader of the package gets the article too.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from pipelines.read.reader import ArchiveReader, raw_body
from pipelines.records.day_index import IndexEntry
from pipelines.store import ArchiveStore
from pipelines.store.files import FILE_MODE
from pipelines.warc import (
    CaptureMissing,
    RecordBuilder,
    WarcRef,
    cdxj_index,
    gzip_member,
    status_line,
    warc_date,
)

WACZ_VERSION = "1.1.1"
WARC_PATH = "archive/data.warc.gz"
INDEX_PATH = "indexes/index.cdx"  # CDXJ lines, the name the WACZ spec gives the index
PAGES_PATH = "pages/pages.jsonl"
# Headers that describe the transfer of the original bytes, not the decoded payload we hold.
REWRITTEN = frozenset({"content-encoding", "transfer-encoding", "content-length"})


@dataclass(frozen=True)
class ExportSummary:
    pages: int
    records: int
    reconstructed: int  # articles from before WARC capture, rebuilt from body and headers
    missing: list[str]  # captures that could not be read (listed, not exported)


def write_wacz(
    reader: ArchiveReader,
    site: str | None,
    since: date | None,
    until: date | None,
    output: Path,
    software: str,
    progress: Callable[[], None] | None = None,
) -> ExportSummary:
    """Write the WACZ of the range to `output` (atomically: a temporary file, then renamed)."""
    tick = progress or (lambda: None)
    store = reader.store
    newest: dict[tuple[str, str], tuple[IndexEntry, dict[str, Any]]] = {}
    copied: set[tuple[str, int, int]] = set()
    missing: list[str] = []
    reconstructed = records = 0
    with tempfile.TemporaryDirectory(dir=output.parent) as work:
        warc_path = Path(work) / "data.warc.gz"
        with warc_path.open("wb") as warc:
            builder = RecordBuilder()
            info = {"software": software, "format": "WARC File Format 1.1"}
            warc.write(gzip_member(builder.warcinfo("data.warc.gz", info)))
            for entry in reader.index_entries(site, since, until):
                tick()
                record = json.loads(store.get(entry.record_key) or b"null")
                if record is None:
                    missing.append(entry.record_key)
                    continue
                try:
                    if record.get("warc"):
                        records += _copy_capture(
                            store, WarcRef.from_dict(record["warc"]), copied, warc
                        )
                    else:
                        _write_reconstructed(store, record, builder, warc)
                        records += 1
                        reconstructed += 1
                except CaptureMissing as error:
                    missing.append(str(error))
                    continue
                held = newest.get((entry.site, entry.id))
                if held is None or entry.version > held[0].version:
                    newest[(entry.site, entry.id)] = (entry, record)
        pages = Path(work) / "pages.jsonl"
        pages.write_bytes(b"".join(_pages_lines([r for _, r in newest.values()])))
        index = Path(work) / "index.cdx"
        index.write_bytes(cdxj_index(warc_path, "data.warc.gz"))
        _zip(output, {WARC_PATH: warc_path, INDEX_PATH: index, PAGES_PATH: pages}, software)
    return ExportSummary(len(newest), records, reconstructed, missing)


def _copy_capture(
    store: ArchiveStore, ref: WarcRef, copied: set[tuple[str, int, int]], out: BinaryIO
) -> int:
    """Copy the capture's records (response or conversion, request, origin) byte for byte."""
    count = 0
    for place in ref.ranges():
        if place in copied:
            continue
        data = store.get_range(*place)
        if data is None:
            raise CaptureMissing(f"{place[0]} is not in the archive")
        out.write(data)
        copied.add(place)
        count += 1
    return count


def _write_reconstructed(
    store: ArchiveStore, record: dict[str, Any], builder: RecordBuilder, out: BinaryIO
) -> None:
    body = raw_body(store, record)
    headers = [(k, v) for k, v in record["http_headers"].items() if k.lower() not in REWRITTEN]
    headers.append(("Content-Length", str(len(body))))
    fetched = datetime.fromisoformat(record["fetched_at"])
    status = status_line(int(record["http_status"]))
    response = builder.response(
        record["fetched_url"], status, "HTTP/1.1", headers, body, fetched, None
    )
    out.write(gzip_member(response))


def _pages_lines(records: list[dict[str, Any]]) -> Iterator[bytes]:
    header = {
        "format": "json-pages-1.0",
        "id": "pages",
        "title": "Archived articles",
        "hasText": True,
    }
    yield _json_line(header)
    for record in sorted(records, key=lambda r: (r["published"], r["site"], r["id"])):
        # The URL and time of its capture; a page rebuilt from before WARC capture is dated
        # when it was fetched, like the response record written for it.
        capture = record.get("warc") or {
            "uri": record["fetched_url"],
            "date": warc_date(datetime.fromisoformat(record["fetched_at"])),
        }
        yield _json_line(
            {
                "id": f"{record['site']}/{record['id']}",
                "url": capture["uri"],
                "ts": capture["date"],
                "title": record["title"],
                "text": record["text"],
            }
        )


def _json_line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n"


def _zip(output: Path, members: dict[str, Path], software: str) -> None:
    """The package: WARC and index stored (not deflated: replay reads them by offset)."""
    resources = []
    for path, source in members.items():
        size, digest = _sha256_file(source)
        resources.append(
            {"name": Path(path).name, "path": path, "hash": f"sha256:{digest}", "bytes": size}
        )
    package = {
        "profile": "data-package",
        "resources": resources,
        "wacz_version": WACZ_VERSION,
        "software": software,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "title": "newsarchive export",
    }
    package_bytes = json.dumps(package, indent=2).encode("utf-8")
    package_digest = {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest(),
    }
    fd, temp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    os.close(fd)
    try:
        with zipfile.ZipFile(temp, "w", allowZip64=True) as package_zip:
            for path, source in members.items():
                stored = path != PAGES_PATH
                package_zip.write(
                    source, path, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                )
            package_zip.writestr("datapackage.json", package_bytes, zipfile.ZIP_DEFLATED)
            package_zip.writestr(
                "datapackage-digest.json",
                json.dumps(package_digest, indent=2),
                zipfile.ZIP_DEFLATED,
            )
        os.chmod(temp, FILE_MODE)  # mkstemp's 0600 is not what the umask says
        os.replace(temp, output)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _sha256_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
