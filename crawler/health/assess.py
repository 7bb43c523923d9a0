"""After every run: the monitors judge it against comparable runs, the findings are kept,
the alerts go out, the metrics and the run report are written. One function, `conclude`,
called where runs end (`newsarchive crawl`, `demo`, `worker` through crawler/runs/session.py;
`scrapy crawl` through its extension). Also each site's health now, for `runs --health`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from crawler.health.alerts import deliver, messages
from crawler.health.metrics import write_metrics
from crawler.health.monitors import RUN_WIDE, Finding, comparable, evaluate
from crawler.health.options import HealthOptions
from crawler.health.reports import REPORT_TYPE, recent_reports, report_object
from crawler.health.run_report import RunReport
from crawler.stats import Exit
from pipelines.spool import Spool
from pipelines.state import ArchiveState
from pipelines.store import ArchiveStore, StoreError

LOG = logging.getLogger("newsarchive.health")
HISTORY_FACTOR = 8  # reports read per comparable run wanted (other kinds and jobs between)


def assess(report: RunReport, store: ArchiveStore, options: HealthOptions) -> RunReport:
    """The report with the monitors' `findings` (and the `alerts` sent, when channels are
    set); the findings recorded in the archive-state log. Never fails the run: a monitor or
    channel that cannot work is logged and said in the report."""
    monitors = options.monitors
    try:
        history = list(recent_reports(store, monitors.history * HISTORY_FACTOR))
    except (StoreError, ValueError) as error:
        LOG.error("run history not readable, no monitors this run: %s", error)
        return report.assessed([], monitors_error=str(error)[:300])
    judged = report.to_dict()
    findings = evaluate(judged, history, monitors)
    for finding in findings:
        LOG.warning("finding: %s: %s: %s", finding.site, finding.name, finding.detail)
    earlier = comparable(judged, history, monitors)
    last = (earlier[0].get("findings") or []) if earlier else []
    previous = [Finding.from_dict(f) for f in last]
    run = f"{report.command} ({report.kind}) started {report.started[:19]}Z"
    _record(findings, run, options, store)
    alerts = None
    if options.alerts.urls:
        outgoing = messages(findings, previous, options.alerts.min_level, run)
        alerts = deliver(options.alerts.urls, outgoing)
    return report.assessed([finding.to_dict() for finding in findings], alerts=alerts)


@dataclass(frozen=True)
class Concluded:
    """What concluding a run did: the report as stored (findings and alerts included), its
    key, and, when the archive could not take the report, why (the report then waits in the
    spool, unless `spooled` is False: the spool failed too)."""

    report: RunReport
    report_key: str
    report_error: str | None = None
    spooled: bool = False

    @property
    def findings(self) -> list[Finding]:
        return [Finding.from_dict(f) for f in self.report.findings or []]

    @property
    def exit_status(self) -> Exit:
        """The run's status for cron: a report that could not be stored is a problem too."""
        return Exit.PROBLEMS if self.report_error else Exit(self.report.exit_status)


def conclude(report: RunReport, store: ArchiveStore, options: HealthOptions) -> Concluded:
    """Judge the run (`assess`), write its metrics, store its report. A report the archive
    cannot take (a full disk, an outage) is spooled like an article and stored by the next
    run or `newsarchive flush`, so `runs` and the monitors learn of every run."""
    report = assess(report, store, options)
    stored = report.to_dict()
    if options.metrics.textfile:
        write_metrics(options.metrics.textfile, stored)
    key, body = report_object(stored)
    try:
        store.put_if_absent(key, body, REPORT_TYPE)
    except StoreError as error:
        try:
            Spool(options.spool_dir).add_object(key, body, REPORT_TYPE)
        except OSError as spool_error:
            return Concluded(report, key, f"{error}; not spooled either: {spool_error}")
        return Concluded(report, key, str(error), spooled=True)
    return Concluded(report, key)


def _record(findings: list[Finding], run: str, options: HealthOptions, store: ArchiveStore) -> None:
    state = ArchiveState(store, options.spool_dir)
    try:
        for finding in findings:
            sites = list(options.sites) if finding.site == RUN_WIDE else [finding.site]
            for site in sites:
                state.record_finding(site, finding.name, finding.level, finding.detail, run)
        state.flush()
    except (OSError, StoreError) as error:  # journaled: the next run publishes them
        LOG.error("findings not published yet: %s", error)


SPARK = "▁▂▃▄▅▆▇█"
TREND_RUNS = 12


@dataclass(frozen=True)
class SiteHealth:
    """A site now: its last run, the archived counts of its recent runs, open findings."""

    site: str
    last: dict[str, Any] | None  # the newest report that ran the site
    archived: list[int]  # oldest first
    findings: list[Finding]  # of the last run: the open ones

    @property
    def healthy(self) -> bool:
        return self.last is not None and not self.findings


def site_health(reports: list[dict[str, Any]], sites: list[str]) -> list[SiteHealth]:
    """Each site's health from recent reports (newest first), as `runs --health` shows it."""
    out = []
    for site in sites:
        ran = [r for r in reports if site in r.get("sites", {})]
        last = ran[0] if ran else None
        findings = [
            Finding.from_dict(f)
            for f in (last or {}).get("findings") or []
            if f.get("site") in (site, RUN_WIDE)
        ]
        counts = [_archived(r["sites"][site]) for r in reversed(ran[:TREND_RUNS])]
        out.append(SiteHealth(site, last, counts, findings))
    return out


def spark(values: list[int]) -> str:
    """A small text chart of counts (one character per run, scaled to the largest)."""
    top = max(values, default=0)
    if not top:
        return SPARK[0] * len(values)
    return "".join(SPARK[round(v / top * (len(SPARK) - 1))] for v in values)


def health_lines(health: list[SiteHealth]) -> list[str]:
    lines = []
    for h in health:
        if h.last is None:
            lines.append(f"{h.site:10} no run yet")
            continue
        r = h.last
        state = "healthy" if h.healthy else f"{len(h.findings)} open findings"
        lines.append(
            f"{h.site:10} {state}; last run {r['started'][:16]}Z {r.get('command', 'crawl')} "
            f"({r.get('kind', '')}) exit {r.get('exit_status')}"
        )
        figures = ", ".join(map(str, h.archived))
        lines.append(f"{'':10} archived per run {spark(h.archived)}  ({figures})")
        for finding in h.findings:
            lines.append(f"{'':10} {finding.level}: {finding.name}: {finding.detail}")
    return lines


def _archived(counts: dict[str, Any]) -> int:
    return int(counts.get("archived") or 0) + int(counts.get("new_versions") or 0)
