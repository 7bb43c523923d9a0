"""The run report: what one run did, as a typed object mypy checks, stored as JSON.

`CrawlSummary.report` builds it at the end of a run; `assess` adds the monitors' findings and
the alerts sent; `to_dict()` is what is written under `runs/` (crawler/health/reports.py) and
what the metrics and the monitors read. Reports read back from storage stay plain dicts: old
reports carry fewer fields, and `runs` shows them as they were written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunReport:
    """One run, as `newsarchive runs`, the monitors and anyone reading the bucket see it."""

    command: str  # crawl, demo, worker, scrapy crawl
    software: str  # "newsarchive <version>"
    run_id: str  # what the JSON log lines of this run carry
    started: str  # ISO times, UTC
    ended: str
    seconds: float
    mode: str  # discovery, urls, revisits (before `kind` existed; kept for old readers)
    kind: str  # discovery, backfill, urls, revisits, history, demo, worker
    job: str | None  # the scheduler job this run was for
    status: str  # ok, problems, interrupted
    exit_status: int
    problems: list[str]
    # Per site: the summary's counters, outcomes, revisits, coverage, failures, close reason.
    sites: dict[str, dict[str, Any]]
    skipped_locked: list[str] = field(default_factory=list)
    unsupported_urls: list[str] = field(default_factory=list)
    pending_uploads: int = 0
    # Added by the monitors (crawler/health/assess.py) before the report is stored.
    findings: list[dict[str, str]] | None = None
    monitors_error: str | None = None
    alerts: dict[str, Any] | None = None  # what `deliver` sent and what failed

    def assessed(
        self,
        findings: list[dict[str, str]],
        monitors_error: str | None = None,
        alerts: dict[str, Any] | None = None,
    ) -> RunReport:
        return dataclasses.replace(
            self, findings=findings, monitors_error=monitors_error, alerts=alerts
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored JSON's fields, in the order they have always been written; the
        monitors' fields only once they are set."""
        data = dataclasses.asdict(self)
        for optional in ("findings", "monitors_error", "alerts"):
            if data[optional] is None:
                del data[optional]
        return data
