"""The end of a run, written once: its kind, its summary, its report judged and stored.

Every run path ends here: `run_and_finish` (crawl, `crawl --from`, demo, worker) prints around
it, and a plain `scrapy crawl <site>` ends here through its extension
(crawler/extensions/report.py), which logs instead of printing. Neither builds a summary or a
report of its own, so the two cannot drift apart. Imports nothing else of crawler.runs, so the
extension may use it without the run starter.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from crawler.config import Config
from crawler.health.assess import Concluded, conclude
from crawler.health.summary import CrawlSummary, SiteRun
from crawler.logs import log_problems
from pipelines.spool import Spool
from pipelines.store import ArchiveStore

# Kinds of run that read the sites' listings (a nightly run, a past range, the demo's mirror).
DISCOVERY_KINDS = frozenset({"discovery", "backfill", "demo"})


def run_kind(
    *, urls: bool, revisit_only: bool, since: bool, until: bool, full: bool, source: bool = False
) -> str:
    """discovery (a nightly run), backfill (a past range or everything again), history (from
    a web archive), urls, revisits: what the monitors compare a run with."""
    if revisit_only:
        return "revisits"
    if urls:
        return "urls"
    if source:
        return "history"
    return "backfill" if since or until or full else "discovery"


def summarise(
    config: Config,
    runs: Mapping[str, SiteRun],
    kind: str,
    *,
    job: str | None = None,
    unsupported: Collection[str] = (),
    skipped_locked: Mapping[str, str] | None = None,
    expected_failures: frozenset[str] = frozenset(),
    signalled: bool = False,
) -> CrawlSummary:
    """The run's summary: what each site's spider did, judged by the config's limits."""
    return CrawlSummary(
        dict(runs),
        list(unsupported),
        pending_uploads=Spool(config.archive.spool_dir).uploads_pending(),
        skipped_locked=dict(skipped_locked or {}),
        discovery=kind in DISCOVERY_KINDS,
        revisits_only=kind == "revisits",
        kind=kind,
        job=job,
        max_failure_ratio=config.crawl.max_failure_ratio,
        retry_attempts=config.retry.max_attempts,
        expected_failures=expected_failures,
        signalled=signalled,
    )


def conclude_run(
    summary: CrawlSummary, config: Config, store: ArchiveStore, started: datetime, command: str
) -> Concluded:
    """The printing-free end of a run: its PROBLEM lines logged (JSON logs), its report
    judged by the monitors, alerts sent, metrics written, the report stored or spooled."""
    if config.logging.format == "json":
        log_problems(summary.problems)
    report = summary.report(command, started, datetime.now(UTC), summary.exit_status)
    return conclude(report, store, config.health())
