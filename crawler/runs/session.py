"""Run a crawl and finish it: the one sequence every kind of run goes through.

check the places the run writes -> take the site locks -> run the spiders -> summarise ->
print the summary -> judge the run, send alerts, write metrics, store the run report ->
refresh the search index.

`newsarchive crawl`, `demo` and `worker` call `run_and_finish` with a `RunRequest` that says
what differs (the plan, the kind, locks or none, Scrapy overrides, a spider wrapper); the
scheduler runs `newsarchive crawl` in a child; a plain `scrapy crawl` ends through its
extension, which uses the same ending (crawler/runs/ending.py). Commands parse arguments and
print; they do not write this sequence again. Imports no command module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from crawler.config import Config, ConfigError
from crawler.health.summary import CrawlSummary
from crawler.logs import RUN_CONTEXT
from crawler.rendering import chromium_problem
from crawler.runs.ending import conclude_run, summarise
from crawler.runs.interrupts import INTERRUPTIONS
from crawler.runs.locks import SiteLock
from crawler.runs.runner import run_crawl
from crawler.stats import Exit, counted
from pipelines.read.reader import ArchiveReader
from pipelines.read.search import SearchIndex
from pipelines.spool import Spool
from pipelines.store import ArchiveStore, StoreUnavailable, check_store, shared_store


class RunSetupError(ConfigError):
    """A place the run writes cannot be used (an unwritable folder, a wrong bucket or
    credentials, no browser for rendering): one line and exit 2, before any fetch."""


@dataclass(frozen=True)
class RunRequest:
    """What one run is: which sites (a site mapped to URLs fetches them, to None discovers),
    and what sets this kind of run apart. A variant passes options, not a copy of the run."""

    plan: Mapping[str, list[str] | None]
    command: str = "crawl"  # the run report's `command`
    kind: str = "discovery"  # discovery, backfill, urls, revisits, demo, worker
    job: str | None = None  # the scheduler job this run is for
    spider_args: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # Scrapy settings, this run
    log_file: Path | None = None
    render: bool = False  # `--render`: challenge pages again in Chromium
    lock: bool = True  # one run per site at a time (workers share sites on purpose)
    spider_class: Callable[[type], type] | None = None  # wraps each spider (frontier workers)
    unsupported: tuple[str, ...] = ()  # URLs no site recognised, for the summary
    expected_failures: frozenset[str] = frozenset()  # the demo's failures on purpose


def prepare(config: Config, log_file: Path | None = None, render: bool = False) -> ArchiveStore:
    """The run's store, once every place the run writes has been checked. An archive that is
    set up right but down now is not a mistake: the run goes on into the spool, and says so."""
    if render or config.crawl.render_challenges:
        problem = chromium_problem(config.crawl.chromium_path)
        if problem:
            raise RunSetupError(problem)
    store = shared_store(config.archive)
    for setting, folder, check in (
        ("archive.spool_dir", config.archive.spool_dir, Spool(config.archive.spool_dir).check),
        (
            "crawl.lock_dir",
            config.crawl.lock_dir,
            partial(SiteLock.check_folder, config.crawl.lock_dir),
        ),
    ):
        try:
            check()
        except OSError as error:
            raise RunSetupError(
                f"setting '{setting}': cannot write {folder}: {error.strerror or error}"
            ) from None
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            log_file.open("a").close()
        except OSError as error:
            raise RunSetupError(f"--log-file {log_file}: {error.strerror or error}") from None
    try:
        check_store(store)
    except StoreUnavailable as error:
        print(f"newsarchive: WARNING: {error}; articles go to the spool", file=sys.stderr)
    return store


def run_and_finish(
    config: Config, request: RunRequest, store: ArchiveStore | None = None
) -> tuple[CrawlSummary, Exit]:
    """Run the request's crawl and finish it; the summary and the exit status for cron.
    `store` is the one `prepare` returned, when the caller needed it before the run."""
    started = datetime.now(UTC)
    INTERRUPTIONS.hold()  # from here on a stop signal ends the run as interrupted, on record
    RUN_CONTEXT["job"] = request.job
    if store is None:
        store = prepare(config, request.log_file, request.render)
    overrides = {**log_file_settings(request.log_file), **request.overrides}
    locks = (
        {site: SiteLock(config.crawl.lock_dir, site) for site in request.plan}
        if request.lock
        else {}
    )
    skipped = {site: lock.holder() for site, lock in locks.items() if not lock.acquire()}
    try:
        runnable = {site: urls for site, urls in request.plan.items() if site not in skipped}
        runs = (
            {}  # stopped before it started: nothing to crawl, the run is still on record
            if INTERRUPTIONS.received
            else run_crawl(
                runnable,
                config,
                overrides,
                request.spider_args,
                request.render,
                request.spider_class,
            )
        )
    finally:
        for lock in locks.values():
            lock.release()
    summary = summarise(
        config,
        runs,
        request.kind,
        job=request.job,
        unsupported=request.unsupported,
        skipped_locked=skipped,
        expected_failures=request.expected_failures,
        signalled=bool(INTERRUPTIONS.received),
    )
    signals_so_far = len(INTERRUPTIONS.received)
    status = finish_run(summary, config, store, started, request.command)
    refresh_search(config)
    INTERRUPTIONS.block()
    if len(INTERRUPTIONS.received) > signals_so_far:
        # A stop signal while the run was being finished: its report is stored as it ran.
        print("PROBLEM: interrupted: a stop signal came while the run was being finished")
        status = Exit.PROBLEMS
    return summary, status


def finish_run(
    summary: CrawlSummary, config: Config, store: ArchiveStore, started: datetime, command: str
) -> Exit:
    """Print the summary, end the run (crawler/runs/ending.py) and say how it ended; the
    exit status for cron."""
    print_summary(summary, config)
    concluded = conclude_run(summary, config, store, started, command)
    for finding in concluded.findings:
        print(f"finding: {finding.site}: {finding.level}: {finding.name}: {finding.detail}")
    for failed in (concluded.report.alerts or {}).get("failed", []):
        print(f"alert not sent: {failed['channel']}: {failed['error']}", file=sys.stderr)
    if concluded.report_error:
        kept = "spooled: the next run or `newsarchive flush` stores it"
        print(
            f"PROBLEM: run report {concluded.report_key} not stored "
            f"({concluded.report_error}); {kept if concluded.spooled else 'lost'}"
        )
    else:
        print(f"run report: {concluded.report_key}")
    return concluded.exit_status


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


def refresh_search(config: Config) -> None:
    """The end of a crawl: bring the search index up to date if the config says so. A
    failure is reported, never the crawl's failure."""
    if not config.search.refreshed_by_crawls(config.archive.location):
        return
    try:
        with SearchIndex(config.search.index_path(config.archive.spool_dir)) as index:
            counts = index.refresh(ArchiveReader(shared_store(config.archive)))
    except Exception as error:  # a locked or damaged index must not fail the night
        print(f"search index not refreshed: {error}", file=sys.stderr)
        return
    if counts["indexed"]:
        print(f"search index: {counted(counts['indexed'], 'article')} added")


def log_file_settings(path: Path | None) -> dict[str, object]:
    """Scrapy's LOG_FILE for `--log-file`, its folder made first (a cron line's `logs/` may
    not exist yet); a folder that cannot be made is a setup error, not a traceback."""
    if path is None:
        return {}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunSetupError(f"--log-file {path}: cannot create its folder: {error}") from None
    return {"LOG_FILE": str(path)}


def redact_location(location: str) -> str:
    """The archive location without any user:password part a URL might carry."""
    scheme, sep, rest = location.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else location
