"""The run's counters for Prometheus, in the node-exporter textfile format.

People who already scrape their crawl hosts with node_exporter's textfile collector get each
run's figures without a new service: at the end of every run (`newsarchive crawl`, `demo`,
`worker`, `scrapy crawl`) the run report's numbers are written by prometheus_client, which
writes a temporary file and renames it over the old one, so the collector never reads half a
file. Everything comes from the run report: one source of truth.

One file per site and scheduler job beside `[metrics] textfile` (`newsarchive.prom` ->
`newsarchive-futu.prom`, `newsarchive-tencent-tencent-6h.prom`), because the collector reads
every `*.prom` of its folder and a nightly line per site would otherwise overwrite the other
site's series. Every series carries `site` and `job`, so no two files hold the same series.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

LOG = logging.getLogger("newsarchive.metrics")
NO_SITE = "all"  # the file of a run that ran no site (stopped before it started)
RUN_LABELS = ["site", "job"]
SINGLES = {
    "newsarchive_run_exit_status": ("Exit status of the site's last run (0, 1, 2)", "exit_status"),
    "newsarchive_run_duration_seconds": ("How long the site's last run took", "seconds"),
    "newsarchive_run_pending_uploads": ("Writes waiting in the spool", "pending_uploads"),
}


def textfile_of(path: str, site: str, job: str | None) -> Path:
    """The textfile of one site and job, beside the configured one."""
    base = Path(path)
    suffix = "".join(f"-{re.sub(r'[^A-Za-z0-9_.-]', '_', part)}" for part in (site, job) if part)
    return base.with_name(f"{base.stem}{suffix}.prom")


def write_metrics(path: str, report: dict[str, Any]) -> None:
    """The report's figures as gauges, one file per site of the run. Never fails the run."""
    sites = report.get("sites") or {NO_SITE: {}}
    for site, counts in sites.items():
        target = textfile_of(path, site, report.get("job"))
        try:
            write_to_textfile(str(target), _registry(report, site, counts))
        except OSError as error:
            LOG.error("metrics not written to %s: %s", target, error.strerror or error)


def _registry(report: dict[str, Any], site: str, counts: dict[str, Any]) -> CollectorRegistry:
    registry = CollectorRegistry()
    job = report.get("job") or ""
    per_site = Gauge(
        "newsarchive_run_pages",
        "Pages of the site's last run by summary counter",
        [*RUN_LABELS, "counter"],
        registry=registry,
    )
    outcomes = Gauge(
        "newsarchive_run_outcomes",
        "Requested URLs of the last run by outcome",
        [*RUN_LABELS, "outcome"],
        registry=registry,
    )
    revisits = Gauge(
        "newsarchive_run_revisits",
        "Revisits of the last run by result",
        [*RUN_LABELS, "result"],
        registry=registry,
    )
    for name, value in counts.items():
        if isinstance(value, int) and not isinstance(value, bool):
            per_site.labels(site, job, name).set(value)
    for name, value in (counts.get("outcomes") or {}).items():
        outcomes.labels(site, job, name).set(value)
    for name, value in (counts.get("revisits") or {}).items():
        revisits.labels(site, job, name).set(value)
    run = Gauge(
        "newsarchive_run_info",
        "The site's last run: command, kind and status",
        [*RUN_LABELS, "command", "mode", "status"],
        registry=registry,
    )
    # `mode` is the run's kind (discovery, backfill, urls, revisits, demo, worker).
    kind = report.get("kind") or report.get("mode", "")
    run.labels(site, job, report.get("command", ""), kind, report.get("status", "")).set(1)
    for name, (help_text, key) in SINGLES.items():
        gauge = Gauge(name, help_text, RUN_LABELS, registry=registry)
        gauge.labels(site, job).set(float(report.get(key) or 0))
    problems = Gauge(
        "newsarchive_run_problems",
        "PROBLEM lines of the site's last run",
        RUN_LABELS,
        registry=registry,
    )
    problems.labels(site, job).set(len(report.get("problems") or []))
    ended = datetime.fromisoformat(report["ended"]).timestamp() if report.get("ended") else 0
    end = Gauge(
        "newsarchive_run_end_timestamp_seconds",
        "When the site's last run ended",
        RUN_LABELS,
        registry=registry,
    )
    end.labels(site, job).set(ended)
    return registry
