"""The run's counters for Prometheus, in the node-exporter textfile format.

People who already scrape their crawl hosts with node_exporter's textfile collector get each
run's figures without a new service: at the end of every run (`newsarchive crawl`, `demo`,
`scrapy crawl`) the run report's numbers are written to `[metrics] textfile` (a `.prom` file)
by prometheus_client, which writes a temporary file and renames it over the old one, so the
collector never reads half a file. Everything comes from the run report: one source of truth.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

LOG = logging.getLogger("newsarchive.metrics")


def write_metrics(path: str, report: dict[str, Any]) -> None:
    """The report's figures as gauges, written atomically. Never fails the run."""
    registry = CollectorRegistry()
    per_site = Gauge("newsarchive_run_pages", "Pages of the last run by summary counter",
                     ["site", "counter"], registry=registry)  # fmt: skip
    outcomes = Gauge("newsarchive_run_outcomes", "Requested URLs of the last run by outcome",
                     ["site", "outcome"], registry=registry)  # fmt: skip
    revisits = Gauge("newsarchive_run_revisits", "Revisits of the last run by result",
                     ["site", "result"], registry=registry)  # fmt: skip
    for site, counts in report.get("sites", {}).items():
        for name, value in counts.items():
            if isinstance(value, int) and not isinstance(value, bool):
                per_site.labels(site, name).set(value)
        for name, value in (counts.get("outcomes") or {}).items():
            outcomes.labels(site, name).set(value)
        for name, value in (counts.get("revisits") or {}).items():
            revisits.labels(site, name).set(value)
    run = Gauge("newsarchive_run_info", "The last run: command, mode and status",
                ["command", "mode", "status"], registry=registry)  # fmt: skip
    run.labels(report.get("command", ""), report.get("mode", ""), report.get("status", "")).set(1)
    singles = {
        "newsarchive_run_exit_status": ("Exit status of the last run (0, 1, 2)", "exit_status"),
        "newsarchive_run_duration_seconds": ("How long the last run took", "seconds"),
        "newsarchive_run_pending_uploads": ("Writes waiting in the spool", "pending_uploads"),
    }
    for name, (help_text, key) in singles.items():
        Gauge(name, help_text, registry=registry).set(float(report.get(key) or 0))
    Gauge("newsarchive_run_problems", "PROBLEM lines of the last run",
          registry=registry).set(len(report.get("problems") or []))  # fmt: skip
    ended = datetime.fromisoformat(report["ended"]).timestamp() if report.get("ended") else 0
    Gauge("newsarchive_run_end_timestamp_seconds", "When the last run ended (Unix time)",
          registry=registry).set(ended)  # fmt: skip
    try:
        write_to_textfile(path, registry)
    except OSError as error:
        LOG.error("metrics not written to %s: %s", path, error.strerror or error)
