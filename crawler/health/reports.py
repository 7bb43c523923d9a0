"""Run reports: what each `newsarchive crawl` did, kept in the archive under `runs/`.

    runs/<YYYY>/<MM>/<DD>/<start, UTC>-<pid>.json

A report is written once, at the end of the run (create-only, like everything in the
archive), so `newsarchive runs` and anyone reading the bucket can tell a quiet night from a
broken one without the crawl's log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.records.layout import run_report_key, run_reports_prefix
from pipelines.store import ArchiveStore

REPORT_TYPE = "application/json"


def report_object(report: dict[str, Any]) -> tuple[str, bytes]:
    """The report's key and bytes, as stored (or spooled when the archive cannot take it)."""
    key = run_report_key(datetime.fromisoformat(report["started"]), os.getpid())
    return key, json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")


def write_report(store: ArchiveStore, report: dict[str, Any]) -> str:
    """Store the report; its key."""
    key, body = report_object(report)
    store.put_if_absent(key, body, REPORT_TYPE)
    return key


def recent_reports(store: ArchiveStore, limit: int, months: int = 24) -> Iterator[dict[str, Any]]:
    """The newest reports first, reading one month's listing at a time (at most `months`)."""
    shown = 0
    month = datetime.now(UTC).replace(day=1)
    for _ in range(months):
        keys = sorted(store.list(run_reports_prefix(month.year, month.month)), reverse=True)
        for key in keys:
            body = store.get(key)
            if body is None:
                continue
            yield {"key": key, **json.loads(body)}
            shown += 1
            if shown >= limit:
                return
        month = (month - timedelta(days=1)).replace(day=1)


def report_line(report: dict[str, Any]) -> str:
    """One line per run for `newsarchive runs`."""
    sites = report.get("sites", {})
    parts = []
    for site, counts in sorted(sites.items()):
        parts.append(
            f"{site} archived {counts.get('archived', 0)} new versions "
            f"{counts.get('new_versions', 0)} failed {counts.get('failures_total', 0)}"
        )
    for site in report.get("skipped_locked", []):
        parts.append(f"{site} skipped (locked)")
    problems = "; ".join(report.get("problems", [])) or "ok"
    command = report.get("command", "crawl")
    return (
        f"{report['started'][:19]}Z  {command:5}  exit {report['exit_status']}  "
        f"{', '.join(parts) or 'nothing ran'}  [{problems}]"
    )
