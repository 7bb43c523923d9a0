"""WARC files (ISO 28500, WARC/1.1): every HTTP exchange of a run, kept the standard way.

Why a separate file per site and run rather than one object per page: replay tools (pywb,
ReplayWeb.page) and archivists expect the exchange itself (request, response headers, payload
as it crossed the wire) in WARC containers, and one file per run costs two S3 requests (the
file and its CDXJ index) instead of one per page.

Each record is its own gzip member, so a record is a byte range: an article record names the
WARC key, offset and length of its capture (`WarcRef`), and reading it back is one ranged
read. Files are written under the spool folder while a run fetches (`warc/open/`), closed at
a configured size and at the end of every run (`warc/ready/`), then stored create-only with
their CDXJ index beside them. A file left open by a killed process is cut at its last complete
gzip member (a record whose gzip trailer checks) before it is stored, so nothing half-written
ever reaches the archive. This package knows files, records and keys; no Scrapy.

The package, by job: `format` (options, WarcRef, digests), `records` (building records),
`recorder` (the live writer), `recovery` (closing, indexing and storing files), `read` (one
capture back). It imports nothing of the archive state, the read side or the item pipeline.
"""

from pipelines.warc.format import MIB, WarcOptions, WarcRef, payload_digest, warc_date
from pipelines.warc.read import CaptureMissing, captured_body, read_record
from pipelines.warc.recorder import WarcRecorder
from pipelines.warc.records import RecordBuilder, gzip_member, record_id, status_line
from pipelines.warc.recovery import Recovered, cdxj_index, ready_files, recover, store_ready

__all__ = [
    "MIB",
    "CaptureMissing",
    "RecordBuilder",
    "Recovered",
    "WarcOptions",
    "WarcRecorder",
    "WarcRef",
    "captured_body",
    "cdxj_index",
    "gzip_member",
    "payload_digest",
    "read_record",
    "ready_files",
    "record_id",
    "recover",
    "status_line",
    "store_ready",
    "warc_date",
]
