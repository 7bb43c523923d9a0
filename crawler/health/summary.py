"""What a run did and what cron sees: each site's SiteRun read off its crawler's stats, and the
CrawlSummary of the whole run (its lines, its problems, its report and exit status).
No Scrapy import: the report extension and the commands build it alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler import software_version
from crawler.health.run_report import RunReport
from crawler.logs import RUN_CONTEXT
from crawler.outcomes import OUTCOMES
from crawler.sites import site_titles
from crawler.stats import (
    ARCHIVE_COUNTERS,
    ARTICLES,
    COUNTERS,
    COVERAGE_FIELDS,
    FAILURES,
    OUTCOME_GROUPS,
    OUTCOME_STAT_PREFIX,
    REVISIT_COUNTERS,
    SUMMARY_ORDER,
    Exit,
    Stat,
    counted,
)


def outcome_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Each outcome this run met, by its table name."""
    return {
        name: int(stats.get(f"{OUTCOME_STAT_PREFIX}{name}", 0))
        for name in OUTCOMES
        if stats.get(f"{OUTCOME_STAT_PREFIX}{name}")
    }


def counts_of(stats: Mapping[str, Any]) -> dict[str, int]:
    """The summary's counters from a crawler's stats."""
    counts = {name: int(stats.get(key, 0)) for name, key in COUNTERS.items()}
    outcomes = outcome_counts(stats)
    for group, names in OUTCOME_GROUPS.items():
        counts[group] = sum(outcomes.get(name, 0) for name in names)
    counts.update({name: int(stats.get(key, 0)) for name, key in ARCHIVE_COUNTERS.items()})
    return {name: counts[name] for name in SUMMARY_ORDER}


def failures_of(stats: Mapping[str, Any]) -> list[dict[str, str]]:
    return list(stats.get(Stat.FAILURE_LIST) or [])


# Why a spider closed, as Scrapy or our components say it, and what a person reads instead.
CLOSE_REASONS = {
    "finished": "finished",
    "shutdown": "stopped by a signal (SIGTERM, Ctrl-C, or the scheduler's job timeout)",
    "stalled": "stopped by the watchdog: no progress for crawl.stall_timeout seconds",
    "storage_lost": "stopped: neither the archive nor the spool can be written",
}


@dataclass
class SiteRun:
    """What one site's spider did in a run, read off its crawler's stats."""

    counts: dict[str, int]
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    close_reason: str = "finished"
    beyond_reach: bool = False  # asked for older articles than any source of it lists
    revisits: dict[str, int] = field(default_factory=dict)  # REVISIT_COUNTERS
    # Stored records that do not match the record schema: {"key", "problems"}, the first 100.
    invalid_records: list[dict[str, Any]] = field(default_factory=list)
    invalid_count: int = 0
    coverage: dict[str, int] = field(default_factory=dict)  # COVERAGE_FIELDS: articles with it

    @classmethod
    def of(cls, stats: Mapping[str, Any]) -> SiteRun:
        return cls(
            counts_of(stats),
            outcome_counts(stats),
            failures_of(stats),
            str(stats.get(Stat.CLOSE_REASON) or "finished"),
            bool(stats.get(Stat.BEYOND_REACH)),
            {name: int(stats.get(key, 0)) for name, key in REVISIT_COUNTERS.items()},
            list(stats.get(Stat.INVALID_LIST) or []),
            int(stats.get(Stat.INVALID_RECORDS, 0)),
            {name: int(stats.get(key, 0)) for name, key in COVERAGE_FIELDS.items()},
        )

    @property
    def interrupted(self) -> bool:
        return self.close_reason != "finished"


@dataclass
class CrawlSummary:
    """Per-site counts of one crawl, and the problems that make it exit 1."""

    sites: dict[str, SiteRun] = field(default_factory=dict)
    unsupported_urls: list[str] = field(default_factory=list)
    # Items in the spool after the whole crawl (every spider shares one spool).
    pending_uploads: int = 0
    skipped_locked: dict[str, str] = field(default_factory=dict)  # site -> lock holder
    discovery: bool = True  # False for a run of given URLs, or of revisits only
    revisits_only: bool = False  # `crawl --revisit-only`
    # What kind of run this was (discovery, backfill, urls, revisits, demo) and the scheduler
    # job it ran for: monitors compare a run only with runs of the same kind and job.
    kind: str = ""
    job: str | None = None
    max_failure_ratio: float = 0.05
    retry_attempts: int = 0  # retry.max_attempts, for the "gave up" line
    # URLs that fail on purpose (the demo's sample failures): listed, never a problem.
    expected_failures: frozenset[str] = frozenset()
    # A stop signal came (SIGTERM, Ctrl-C), whether or not a crawl was running to stop.
    signalled: bool = False

    def _expected(self, run: SiteRun) -> int:
        return sum(1 for f in run.failures if f["url"] in self.expected_failures)

    @property
    def interrupted(self) -> bool:
        return self.signalled or any(run.interrupted for run in self.sites.values())

    @property
    def problems(self) -> list[str]:
        """Why this run counts as failed (exit 1); empty when it went well."""
        out = []
        if self.signalled and not any(run.interrupted for run in self.sites.values()):
            out.append(
                "interrupted: a stop signal came (SIGTERM or Ctrl-C) while no crawl ran "
                "to stop; what the run had not done is done by the next run"
            )
        for site, run in sorted(self.sites.items()):
            counts = run.counts
            if run.interrupted:
                reason = CLOSE_REASONS.get(run.close_reason, run.close_reason)
                out.append(
                    f"interrupted: {site} {reason}; what it had not finished is "
                    "fetched by the next run"
                )
            expected = self._expected(run)
            failed = sum(counts[name] for name in FAILURES) - expected
            pages = counts["requested"] - counts["filtered"]
            if counts["discovery_errors"]:
                out.append(
                    f"{site}: discovery broken ({counts['discovery_errors']} listing errors)"
                )
            elif self.discovery and counts["discovered"] == 0 and not run.interrupted:
                out.append(f"{site}: the listings gave no articles at all")
            if pages and failed / pages > self.max_failure_ratio:
                out.append(
                    f"{site}: {failed} of {counted(pages, 'page')} failed, above "
                    f"{self.max_failure_ratio:.0%} (parse errors {counts['parse_errors']}, "
                    f"layout changed {counts['layout_changed']}, "
                    f"layout unknown {counts['layout_unknown']}, blocked {counts['blocked']}, "
                    f"fetch failed {counts['fetch_failed']})"
                )
            fetched = counts["fetched"] - expected - run.revisits.get("revisited", 0)
            if fetched > 0 and not any(counts[n] for n in (*ARTICLES, "not_articles")):
                fetched_pages = counted(counts["fetched"], "page")
                out.append(f"{site}: zero articles from {fetched_pages} fetched")
            changed, generic = (
                counts[reason]
                - sum(
                    1
                    for f in run.failures
                    if f["reason"] == reason and f["url"] in self.expected_failures
                )
                for reason in ("layout_changed", "layout_unknown")
            )
            if changed > 0:
                out.append(
                    f"{site}: {counted(changed, 'page')} with no known layout: the site's layout "
                    "may have changed (fix the parser, then `newsarchive reparse --rejected`)"
                )
            if generic > 0:
                out.append(
                    f"{site}: {counted(generic, 'page')} in no known layout, "
                    "archived with generic text (extraction: generic): add a layout, then "
                    "`newsarchive reparse`"
                )
            if run.beyond_reach:
                out.append(
                    f"{site}: --since is older than any of its discovery sources lists (see the "
                    "log); older articles: crawl --from wayback, or a URL list (--urls-file)"
                )
            if counts["lost"]:
                out.append(
                    f"{site}: {counts['lost']} parsed pages NOT KEPT: neither the archive nor "
                    "the spool could be written (fix the spool folder, then re-run)"
                )
            if counts["gave_up"]:
                out.append(
                    f"{site}: gave up on {counted(counts['gave_up'], 'page')} after "
                    f"{self.retry_attempts or 'the maximum'} attempts (listed in the run report)"
                )
        out += [
            f"{site}: skipped, already running ({who})" for site, who in self.skipped_locked.items()
        ]
        if self.unsupported_urls:
            out.append(f"{len(self.unsupported_urls)} URLs of no known site")
        if self.pending_uploads:
            out.append(f"{self.pending_uploads} archive writes pending (run `newsarchive flush`)")
        return out

    @property
    def exit_status(self) -> Exit:
        return Exit.PROBLEMS if self.problems else Exit.OK

    @property
    def status(self) -> str:
        """The run report's one-word verdict."""
        if self.interrupted:
            return "interrupted"
        return "problems" if self.problems else "ok"

    def lines(self) -> list[str]:
        out = []
        for site, run in sorted(self.sites.items()):
            shown = ", ".join(
                f"{name.replace('_', ' ')} {value}" for name, value in run.counts.items()
            )
            out.append(f"{site}: {shown}")
            if run.revisits.get("revisited"):
                found = ", ".join(f"{k} {v}" for k, v in run.revisits.items() if k != "revisited")
                out.append(f"{site}: revisited {run.revisits['revisited']} ({found})")
            if run.counts["discovery_errors"]:
                out.append(f"{site}: DISCOVERY BROKEN, see the log (this is not 'no news today')")
            for failure in run.failures[:20]:
                why = failure["reason"].replace("_", " ")
                purpose = " (on purpose)" if failure["url"] in self.expected_failures else ""
                out.append(f"{site}: {why}: {failure['url']}{purpose}")
        for site, who in self.skipped_locked.items():
            out.append(f"{site}: skipped, a crawl of {site} is already running ({who})")
        out += [f"not a {site_titles()} article URL: {url}" for url in self.unsupported_urls]
        out.append(f"pending uploads {self.pending_uploads}")
        return out

    def report(
        self, command: str, started: datetime, ended: datetime, exit_status: int
    ) -> RunReport:
        """The run report stored under runs/ (see crawler/health/reports.py)."""
        sites = {
            site: {
                **run.counts,
                "failures_total": sum(run.counts[name] for name in FAILURES),
                "outcomes": run.outcomes,
                "revisits": run.revisits,
                "invalid_records": run.invalid_records,
                "coverage": run.coverage,
                "close_reason": run.close_reason,
                "failures": run.failures,
            }
            for site, run in sorted(self.sites.items())
        }
        return RunReport(
            command=command,
            software=f"newsarchive {software_version()}",
            run_id=str(RUN_CONTEXT["run_id"]),
            started=started.isoformat(),
            ended=ended.isoformat(),
            seconds=round((ended - started).total_seconds(), 1),
            mode="revisits" if self.revisits_only else "discovery" if self.discovery else "urls",
            kind=self.kind or ("discovery" if self.discovery else "urls"),
            job=self.job,
            status=self.status,
            exit_status=int(exit_status),
            problems=self.problems,
            sites=sites,
            skipped_locked=sorted(self.skipped_locked),
            unsupported_urls=self.unsupported_urls,
            pending_uploads=self.pending_uploads,
        )
