"""The archive's key layout, defined once for the pipeline, the readers and re-parsing.

The same keys are used in the local folder and in an S3 bucket (under an optional prefix):

    articles/<site>/<YYYY>/<MM>/<DD>/<id>.json        record: metadata, clean text, provenance
    text/<site>/<YYYY>/<MM>/<DD>/<id>.txt             clean text, UTF-8
    raw/<site>/<YYYY>/<MM>/<DD>/<id>.html.gz          response body exactly as served, gzipped
    rejected/<site>/<YYYY>/<MM>/<DD>/<name>.json      a page that gave no article, and why
    rejected/<site>/<YYYY>/<MM>/<DD>/<name>.html.gz   its raw bytes
    index/<site>/<id>.json                            "this id is archived" (first record's key):
                                                      one cheap lookup per id for incremental crawls
    daily/<site>/<YYYY>/<MM>/<DD>/<segment>.jsonl     per-day index: one line per stored version
    catalog/                                          the catalog: a Delta Lake table of every
                                                      stored version, partitioned site=/month=
    runs/<YYYY>/<MM>/<DD>/<start>Z-<pid>.json         what one crawl did (its run report)
    state/<site>/runs/<end time>.json                 a finished run's high-water mark
    state/<site>/log/<YYYY>/<MM>/<DD>/<segment>.jsonl the fetch-outcome log: one line per URL
                                                      fetched (append-only, create-only segments)
    warc/<site>/<YYYY>/<MM>/<DD>/<name>.warc.gz       every HTTP exchange of a run (WARC/1.1),
    warc/<site>/<YYYY>/<MM>/<DD>/<name>.cdxj          and its CDXJ index; filed under the UTC
                                                      day the file was opened
    audits/<YYYY>/<MM>/<DD>/<time>Z-<pid>.json        what a fixity audit (`verify`) found
    removed/<site>/<id>/<time>Z.<event>.json          an archived article seen gone (`removed`)
                                                      or back (`returned`), with the evidence

Every key is built here and parsed back here; no other module formats a key.

Articles captured in a WARC file have no `raw/` object: their record names the WARC key,
offset and length of the capture instead (`warc`). Older records keep their `raw/` object.

A changed article keeps its first version and adds `<id>.v2.json` (`.v2.txt`, `.v2.html.gz`)
and so on. Article dates are publication dates in Beijing time, the date the site shows;
rejected pages are filed under their fetch date (UTC), since they have no trusted date.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from crawler.items import BEIJING

LAYOUT_VERSION = 1
_SAFE = re.compile(r"[^0-9A-Za-z._-]+")


@dataclass(frozen=True)
class ArticleKeys:
    """The three objects of one version of one article."""

    record: str
    text: str
    raw: str


def day(site: str, when: datetime, tz: timezone = BEIJING) -> str:
    """`<site>/<YYYY>/<MM>/<DD>` for a moment, in the given time zone."""
    return f"{site}/{when.astimezone(tz):%Y/%m/%d}"


def article_keys(site: str, article_id: str, published: datetime, version: int = 1) -> ArticleKeys:
    """Keys of one version of an article (version 1 has no suffix)."""
    stem = f"{day(site, published)}/{safe_name(article_id)}"
    suffix = "" if version == 1 else f".v{version}"
    return ArticleKeys(
        record=f"articles/{stem}{suffix}.json",
        text=f"text/{stem}{suffix}.txt",
        raw=f"raw/{stem}{suffix}.html.gz",
    )


def index_key(site: str, article_id: str) -> str:
    """The per-id marker written after an article's first record."""
    return f"index/{site}/{safe_name(article_id)}.json"


def run_state_prefix(site: str) -> str:
    """Where the finished runs of a site keep their high-water marks."""
    return f"state/{site}/runs/"


def run_state_key(site: str, ended: datetime) -> str:
    """Where a finished run records its high-water mark (create-only, newest wins)."""
    return f"{run_state_prefix(site)}{ended.astimezone(UTC):%Y%m%dT%H%M%S%fZ}.json"


def outcome_log_prefix(site: str, year: int | None = None, month: int | None = None) -> str:
    """`state/<site>/log/`, or the prefix of one month of the fetch-outcome log."""
    return _month_prefix(f"state/{site}/log/", year, month)


def outcome_segment_key(site: str, when: datetime, segment: str) -> str:
    """One published segment of the fetch-outcome log, filed under its UTC day."""
    return f"{outcome_log_prefix(site)}{when.astimezone(UTC):%Y/%m/%d}/{safe_name(segment)}.jsonl"


# The catalog's Delta Lake table (pipelines/catalog): its `_delta_log/` and Parquet files.
CATALOG_ROOT = "catalog"


def catalog_month(published: datetime) -> str:
    """The catalog (and Parquet export) partition of a version: its Beijing publication month."""
    return f"{published.astimezone(BEIJING):%Y-%m}"


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of a catalog month (`YYYY-MM`)."""
    year, number = int(month[:4]), int(month[5:7])
    following = date(year + number // 12, number % 12 + 1, 1)
    return date(year, number, 1), following - timedelta(days=1)


def records_prefix(site: str, year: int | None = None, month: int | None = None) -> str:
    """`articles/<site>/`, or the prefix of one year or month of the records."""
    return _month_prefix(f"articles/{site}/", year, month)


def daily_prefix(site: str, year: int | None = None, month: int | None = None) -> str:
    """`daily/<site>/`, or the prefix of one year or month of it."""
    return _month_prefix(f"daily/{site}/", year, month)


def daily_segment_key(site: str, published: datetime, segment: str) -> str:
    """One published segment of the per-day index, filed under the Beijing publication day."""
    return f"daily/{day(site, published)}/{safe_name(segment)}.jsonl"


def segment_day(key: str) -> date | None:
    """The day a `daily/` or `state/<site>/log/` segment key, or a `rejected/` key, is filed
    under."""
    parts = key.split("/")
    first = 3 if parts[0] == "state" else 2
    try:
        return date(int(parts[first]), int(parts[first + 1]), int(parts[first + 2]))
    except (IndexError, ValueError):
        return None


RUNS_PREFIX = "runs/"


def run_report_key(started: datetime, pid: int) -> str:
    """Where the report of a run started at `started` by process `pid` is kept."""
    moment = started.astimezone(UTC)
    return f"{RUNS_PREFIX}{moment:%Y/%m/%d}/{moment:%Y%m%dT%H%M%S}Z-{pid}.json"


def run_reports_prefix(year: int, month: int) -> str:
    """The reports of one month."""
    return _month_prefix(RUNS_PREFIX, year, month)


def _month_prefix(root: str, year: int | None, month: int | None) -> str:
    if year is None:
        return root
    if month is None:
        return f"{root}{year:04d}/"
    return f"{root}{year:04d}/{month:02d}/"


def rejected_prefix(site: str, year: int | None = None, month: int | None = None) -> str:
    """`rejected/<site>/`, or the prefix of one year or month of it (UTC fetch dates)."""
    return _month_prefix(f"rejected/{site}/", year, month)


def rejected_keys(site: str, name: str, fetched_at: datetime) -> tuple[str, str]:
    """Record and raw keys of a rejected page."""
    stem = f"rejected/{day(site, fetched_at, UTC)}/{safe_name(name)}"
    return f"{stem}.json", f"{stem}.html.gz"


def safe_name(value: str) -> str:
    """A key-safe file name; anything odd is replaced and a short hash keeps it unique."""
    cleaned = _SAFE.sub("_", value).strip("._")[:120]
    if cleaned == value:
        return value
    return f"{cleaned}-{hashlib.sha1(value.encode()).hexdigest()[:10]}"


WARC_PREFIX = "warc/"
_WARC_NAME = re.compile(
    r"^newsarchive-(?P<site>[a-z0-9]+)-(?P<stamp>\d{8}T\d{12}Z)-(?P<pid>\d+)-(?P<serial>\d+)\.warc\.gz$"
)


def warc_file_name(site: str, opened: datetime, pid: int, serial: int) -> str:
    """A WARC file's name: site, opening time (UTC, microseconds), writer pid, serial."""
    return (
        f"newsarchive-{site}-{opened.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{pid}-{serial:05d}.warc.gz"
    )


def warc_writer_pid(name: str) -> int | None:
    """The pid of the process that writes (or wrote) a WARC file, from its name."""
    match = _WARC_NAME.match(name)
    return int(match["pid"]) if match else None


def warc_key(name: str) -> str:
    """The archive key of a WARC file named by `warc_file_name` (ValueError for others)."""
    match = _WARC_NAME.match(name)
    if match is None:
        raise ValueError(f"not a newsarchive WARC file name: {name!r}")
    stamp = match["stamp"]
    return f"{WARC_PREFIX}{match['site']}/{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}/{name}"


def warc_prefix(site: str, year: int | None = None, month: int | None = None) -> str:
    """`warc/<site>/`, or the prefix of one year or month of it (UTC opening days)."""
    return _month_prefix(f"{WARC_PREFIX}{site}/", year, month)


def warc_index_key(key: str) -> str:
    """The CDXJ index stored beside a WARC file."""
    return key.removesuffix(".warc.gz") + ".cdxj"


def is_warc_key(key: str) -> bool:
    return key.startswith(WARC_PREFIX) and key.endswith(".warc.gz")


AUDITS_PREFIX = "audits/"


def audit_report_key(started: datetime, pid: int) -> str:
    """Where the report of a fixity audit started at `started` is kept."""
    moment = started.astimezone(UTC)
    return f"{AUDITS_PREFIX}{moment:%Y/%m/%d}/{moment:%Y%m%dT%H%M%S}Z-{pid}.json"


REMOVED_PREFIX = "removed/"
REMOVAL_EVENTS = ("removed", "returned")


def removal_prefix(site: str) -> str:
    """`removed/<site>/`: the removal markers of a site (few: one per removal or return)."""
    return f"{REMOVED_PREFIX}{site}/"


def removal_key(site: str, article_id: str, when: datetime, event: str) -> str:
    """A removal marker: `event` is `removed` (first seen gone) or `returned`."""
    moment = when.astimezone(UTC)
    return f"{removal_prefix(site)}{safe_name(article_id)}/{moment:%Y%m%dT%H%M%S%fZ}.{event}.json"


def removal_evidence_key(marker_key: str) -> str:
    """The page as served that showed the removal, when it was not captured in a WARC."""
    return marker_key.removesuffix(".json") + ".html.gz"


def removal_event(key: str) -> tuple[str, str] | None:
    """(key-safe article id, event) of a removal marker key; None for other keys."""
    parts = key.split("/")
    if len(parts) != 4 or not key.endswith(".json"):
        return None
    event = parts[3].removesuffix(".json").rsplit(".", 1)[-1]
    return (parts[2], event) if event in REMOVAL_EVENTS else None
