"""What several commands share: the usage error, and printing and storing a crawl's outcome."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from crawler.config import Config
from crawler.health.assess import assess
from crawler.health.metrics import write_metrics
from crawler.health.reports import write_report
from crawler.health.summary import CrawlSummary
from crawler.items import parse_day
from crawler.runs.locks import SiteLock
from crawler.stats import Exit
from pipelines.spool import Spool
from pipelines.store import ArchiveStore, StoreError, StoreUnavailable, check_store


class UsageError(Exception):
    """Bad command-line use; reported in one line with exit status 2."""


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (argparse turns the error into exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def check_range(since: str | None, until: str | None) -> None:
    """`--since` and `--until` days: each a valid day, and not the wrong way round."""
    for option, value in (("--since", since), ("--until", until)):
        if value:
            try:
                parse_day(value)
            except ValueError as error:
                raise UsageError(f"{option}: {error}") from None
    if since and until and parse_day(until) < parse_day(since):
        raise UsageError("--until is before --since")


def check_run_places(config: Config, store: ArchiveStore, log_file: Path | None) -> None:
    """Every place a run writes, checked before any fetch: one line and exit 2 for a
    mistake (unwritable folder, wrong bucket or credentials). An archive that is set up
    right but down now is not a mistake: the run goes on into the spool, and says so."""
    try:
        Spool(config.archive.spool_dir).check()
    except OSError as error:
        raise UsageError(
            f"setting 'archive.spool_dir': cannot write {config.archive.spool_dir}: "
            f"{error.strerror or error}"
        ) from None
    try:
        SiteLock.check_folder(config.crawl.lock_dir)
    except OSError as error:
        raise UsageError(
            f"setting 'crawl.lock_dir': cannot write {config.crawl.lock_dir}: "
            f"{error.strerror or error}"
        ) from None
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            log_file.open("a").close()
        except OSError as error:
            raise UsageError(f"--log-file {log_file}: {error.strerror or error}") from None
    try:
        check_store(store)
    except StoreUnavailable as error:
        print(f"newsarchive: WARNING: {error}; articles go to the spool", file=sys.stderr)


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
    """Print the summary; its exit status, even when stdout is closed early (`| head -1`)."""
    try:
        for line in summary.lines():
            print(line)
        for problem in summary.problems:
            print(f"PROBLEM: {problem}")
        print(f"archive: {redact_location(config.archive.location)}")
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return summary.exit_status


def finish_run(
    summary: CrawlSummary, config: Config, store: ArchiveStore, started: datetime, command: str
) -> int:
    """Print the summary and store the run report; the exit status for cron."""
    status = print_summary(summary, config)
    report = {"command": command, **summary.report(started, datetime.now(UTC), status)}
    findings = assess(report, store, config.judging())
    for finding in findings:
        print(f"finding: {finding.site}: {finding.level}: {finding.name}: {finding.detail}")
    for failed in (report.get("alerts") or {}).get("failed", []):
        print(f"alert not sent: {failed['channel']}: {failed['error']}", file=sys.stderr)
    if config.metrics.textfile:
        write_metrics(config.metrics.textfile, report)
    try:
        key = write_report(store, report)
    except StoreError as error:
        print(f"newsarchive: run report not stored: {error}", file=sys.stderr)
        return Exit.PROBLEMS
    print(f"run report: {key}")
    return status
