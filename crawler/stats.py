"""Stat names, the crawl summary built from them, and the exit statuses it leads to.

One home for the names the spiders and the archive pipeline count under (Scrapy's stats
collector), for the summary the CLI prints and stores as the run report, and for the exit
policy cron sees. No Scrapy import: the pipelines and the report extension read it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from crawler.outcomes import OUTCOMES, PARSED, Kind, names_of, outcome
from crawler.sites import site_titles

OUTCOME_STAT_PREFIX = "newsarchive/outcome/"


class Exit(IntEnum):
    """What `newsarchive` returns: cron and the scheduler read these."""

    OK = 0
    PROBLEMS = 1  # the run finished, with problems (failed pages, broken discovery, ...)
    USAGE = 2  # configuration or usage error: nothing was crawled


class Stat(StrEnum):
    """Every stat newsarchive counts, under Scrapy's stats collector."""

    DISCOVERED = "newsarchive/discovered"
    ALREADY_ARCHIVED = "newsarchive/already_archived"
    TOO_OLD = "newsarchive/too_old"
    TOO_NEW = "newsarchive/too_new"  # published after `--until`
    OFFSITE_REFUSED = "newsarchive/offsite_refused"
    DISCOVERY_ERRORS = "newsarchive/discovery_errors"
    LISTED_NON_ARTICLES = "newsarchive/listed_non_articles"
    REQUESTED = "newsarchive/requested"  # article URLs this run decided to fetch
    RETRIED = "newsarchive/retried"  # of those, failed pages of earlier runs (retry ledger)
    GAVE_UP = "newsarchive/gave_up"  # failed pages given up after retry.max_attempts
    FETCHED = "newsarchive/fetched"  # responses handed to the parser (a render is not one more)
    RENDERED = "newsarchive/rendered"  # challenge pages fetched again in Chromium
    UNSUPPORTED_URL = "newsarchive/unsupported_url"
    # Archived articles (new or new versions) that carry each field: the field coverage the
    # monitors compare run over run (a parser that stops finding authors shows here).
    FIELD_AUTHOR = "newsarchive/fields/author"
    FIELD_OUTLET = "newsarchive/fields/outlet"
    FIELD_SOURCE = "newsarchive/fields/source"
    FIELD_TICKERS = "newsarchive/fields/tickers"
    FRONTIER_CLAIMED = "newsarchive/frontier/claimed"  # a worker's entries from the frontier
    # Claims a worker made while it still held pages, instead of waiting to run dry.
    FRONTIER_CLAIMED_AHEAD = "newsarchive/frontier/claimed_ahead"
    RATE_WAITED = "newsarchive/frontier/rate_waited"  # requests held for the shared rate limit
    # Pages that failed, with URLs, for the run report (a list, not a count).
    FAILURE_LIST = "newsarchive/failure_list"
    # 1 when a run asked for articles older than any of its discovery sources lists.
    BEYOND_REACH = "newsarchive/beyond_reach"
    # Why the spider closed ("finished", "shutdown" for SIGTERM, "stalled", ...).
    CLOSE_REASON = "newsarchive/close_reason"
    # What the archive pipeline did with each item (records/writer.py ArchiveResult.status).
    ARCHIVED = "newsarchive/archive/archived"
    NEW_VERSION = "newsarchive/archive/new_version"
    UNCHANGED = "newsarchive/archive/unchanged"
    REJECTED = "newsarchive/archive/rejected"
    REJECTED_SEEN = "newsarchive/archive/rejected_seen"
    SPOOLED = "newsarchive/archive/spooled"
    FLUSHED = "newsarchive/archive/flushed"
    PENDING = "newsarchive/archive/pending"
    LOST = "newsarchive/archive/lost"  # neither archived nor spooled: the run stops
    # Stored records that do not match the record schema (pipelines/records/record_schema.json), and
    # which (a list, for the run report).
    INVALID_RECORDS = "newsarchive/archive/invalid_records"
    INVALID_LIST = "newsarchive/archive/invalid_list"
    # Revisits of archived articles ([revisit]): requested, and what they found.
    REVISITED = "newsarchive/revisit/requested"
    REVISIT_UNCHANGED = "newsarchive/revisit/unchanged"
    REVISIT_CHANGED = "newsarchive/revisit/changed"
    REVISIT_REMOVED = "newsarchive/revisit/removed"
    REVISIT_RETURNED = "newsarchive/revisit/returned"
    # WARC capture (crawler/capture.py): records written by type, and files stored.
    WARC_FAILED = "newsarchive/warc/failed"  # the capture stopped (local disk): raw kept
    WARC_STORED = "newsarchive/warc/files_stored"
    WARC_PENDING = "newsarchive/warc/files_pending"

    def __repr__(self) -> str:
        # Scrapy's end-of-crawl stats dump shows keys by repr: show the plain name.
        return repr(self.value)

    @staticmethod
    def of_outcome(name: str) -> str:
        """The counter of one outcome of crawler/outcomes.py ("parsed", "timeout", ...)."""
        return f"{OUTCOME_STAT_PREFIX}{outcome(name).name}"

    @staticmethod
    def of_warc_record(record_type: str) -> str:
        """Records of one WARC type written (response, revisit, conversion)."""
        return f"newsarchive/warc/{record_type}"

    @classmethod
    def of_archive_status(cls, status: str) -> Stat:
        return cls(f"newsarchive/archive/{status}")


# The summary's counters, in the order the summary line prints them: plain stats, and groups
# of outcomes (crawler/outcomes.py) under one name.
COUNTERS: dict[str, Stat] = {
    "discovered": Stat.DISCOVERED,
    "already_archived": Stat.ALREADY_ARCHIVED,
    "too_old": Stat.TOO_OLD,
    "too_new": Stat.TOO_NEW,
    "offsite_refused": Stat.OFFSITE_REFUSED,
    "discovery_errors": Stat.DISCOVERY_ERRORS,
    "requested": Stat.REQUESTED,
    "retried": Stat.RETRIED,
    "fetched": Stat.FETCHED,
}
OUTCOME_GROUPS: dict[str, tuple[str, ...]] = {
    "parsed": (PARSED,),
    "not_modified": ("not_modified",),
    "not_articles": names_of(Kind.NOT_ARTICLE),
    "parse_errors": ("parse_error",),
    "layout_changed": ("layout_changed",),
    "blocked": ("blocked",),
    "fetch_failed": names_of(Kind.FAILED),
    "filtered": names_of(Kind.FILTERED),
}
ARCHIVE_COUNTERS: dict[str, Stat] = {
    "archived": Stat.ARCHIVED,
    "new_versions": Stat.NEW_VERSION,
    "unchanged": Stat.UNCHANGED,
    "rendered": Stat.RENDERED,
    "unsupported": Stat.UNSUPPORTED_URL,
    "gave_up": Stat.GAVE_UP,
    "spooled": Stat.SPOOLED,
    "lost": Stat.LOST,
}
SUMMARY_ORDER = (
    *list(COUNTERS)[:-1], "fetched", "parsed", "archived", "new_versions", "unchanged",
    "not_articles", "blocked", "rendered", "parse_errors", "layout_changed", "fetch_failed",
    "filtered",
    "unsupported", "gave_up", "spooled", "lost",
)  # fmt: skip
# Pages that did not become what they should have: weighed against crawl.max_failure_ratio.
FAILURES = ("parse_errors", "layout_changed", "blocked", "fetch_failed")
ARTICLES = ("archived", "new_versions", "unchanged")
MAX_LISTED_FAILURES = 500
# What the revisits of a run found ([revisit]), one line per site in the summary.
REVISIT_COUNTERS: dict[str, Stat] = {
    "revisited": Stat.REVISITED,
    "unchanged": Stat.REVISIT_UNCHANGED,
    "changed": Stat.REVISIT_CHANGED,
    "removed": Stat.REVISIT_REMOVED,
    "returned": Stat.REVISIT_RETURNED,
}

COVERAGE_FIELDS: dict[str, Stat] = {
    "author": Stat.FIELD_AUTHOR,
    "outlet": Stat.FIELD_OUTLET,
    "source": Stat.FIELD_SOURCE,
    "tickers": Stat.FIELD_TICKERS,
}


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

    def _expected(self, run: SiteRun) -> int:
        return sum(1 for f in run.failures if f["url"] in self.expected_failures)

    @property
    def interrupted(self) -> bool:
        return any(run.interrupted for run in self.sites.values())

    @property
    def problems(self) -> list[str]:
        """Why this run counts as failed (exit 1); empty when it went well."""
        out = []
        for site, run in sorted(self.sites.items()):
            counts = run.counts
            if run.interrupted:
                reason = CLOSE_REASONS.get(run.close_reason, run.close_reason)
                out.append(f"interrupted: {site} {reason}; what it had not finished is "
                           "fetched by the next run")  # fmt: skip
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
                    f"{site}: {failed} of {pages} pages failed, above "
                    f"{self.max_failure_ratio:.0%} (parse errors {counts['parse_errors']}, "
                    f"layout changed {counts['layout_changed']}, blocked {counts['blocked']}, "
                    f"fetch failed {counts['fetch_failed']})"
                )
            fetched = counts["fetched"] - expected - run.revisits.get("revisited", 0)
            if fetched > 0 and not any(counts[n] for n in (*ARTICLES, "not_articles")):
                out.append(f"{site}: zero articles from {counts['fetched']} pages fetched")
            changed = counts["layout_changed"] - sum(
                1 for f in run.failures
                if f["reason"] == "layout_changed" and f["url"] in self.expected_failures
            )  # fmt: skip
            if changed > 0:
                out.append(
                    f"{site}: {changed} pages match no known layout: the site's layout may have "
                    "changed (fix the parser, then `newsarchive reparse --rejected`)"
                )
            if run.beyond_reach:
                out.append(
                    f"{site}: --since is older than any of its discovery sources lists (see the "
                    "log); older articles need a URL list (crawl --urls-file)"
                )
            if counts["lost"]:
                out.append(
                    f"{site}: {counts['lost']} parsed pages NOT KEPT: neither the archive nor "
                    "the spool could be written (fix the spool folder, then re-run)"
                )
            if counts["gave_up"]:
                out.append(
                    f"{site}: gave up on {counts['gave_up']} pages after "
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

    def report(self, started: datetime, ended: datetime, exit_status: int) -> dict[str, Any]:
        """The run report stored under runs/ (see crawler/reports.py)."""
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
        return {
            "started": started.isoformat(),
            "ended": ended.isoformat(),
            "seconds": round((ended - started).total_seconds(), 1),
            "mode": "revisits" if self.revisits_only else "discovery" if self.discovery else "urls",
            "kind": self.kind or ("discovery" if self.discovery else "urls"),
            "job": self.job,
            "status": self.status,
            "exit_status": exit_status,
            "problems": self.problems,
            "sites": sites,
            "skipped_locked": sorted(self.skipped_locked),
            "unsupported_urls": self.unsupported_urls,
            "pending_uploads": self.pending_uploads,
        }
