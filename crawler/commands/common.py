"""What several commands share: the usage error, and printing and storing a crawl's outcome."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from crawler.config import Config
from crawler.reports import write_report
from crawler.stats import CrawlSummary, Exit
from pipelines.store import ArchiveStore, StoreError


class UsageError(Exception):
    """Bad command-line use; reported in one line with exit status 2."""


def log_file_settings(path: Path | None) -> dict[str, object]:
    """Scrapy's LOG_FILE for `--log-file`, its folder made first (a cron line's `logs/` may
    not exist yet); a folder that cannot be made is a usage error, not a traceback."""
    if path is None:
        return {}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--log-file {path}: cannot create its folder: {error}") from None
    return {"LOG_FILE": str(path)}


def redact_location(location: str) -> str:
    """The archive location without any user:password part a URL might carry."""
    scheme, sep, rest = location.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else location


def print_summary(summary: CrawlSummary, config: Config) -> Exit:
    for line in summary.lines():
        print(line)
    for problem in summary.problems:
        print(f"PROBLEM: {problem}")
    print(f"archive: {redact_location(config.archive.location)}")
    return summary.exit_status


def finish_run(
    summary: CrawlSummary, config: Config, store: ArchiveStore, started: datetime, command: str
) -> int:
    """Print the summary and store the run report; the exit status for cron."""
    status = print_summary(summary, config)
    report = {"command": command, **summary.report(started, datetime.now(UTC), status)}
    try:
        key = write_report(store, report)
    except StoreError as error:
        print(f"newsarchive: run report not stored: {error}", file=sys.stderr)
        return Exit.PROBLEMS
    print(f"run report: {key}")
    return status
