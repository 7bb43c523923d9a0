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

from crawler.sites import site_titles


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
    OFFSITE_REFUSED = "newsarchive/offsite_refused"
    DISCOVERY_ERRORS = "newsarchive/discovery_errors"
    LISTED_NON_ARTICLES = "newsarchive/listed_non_articles"
    FETCHED = "newsarchive/fetched"
    PARSED = "newsarchive/parsed"
    RENDERED = "newsarchive/rendered"  # challenge pages fetched again in Chromium
    # One per rejection reason (crawler/parsers/errors.py), plus a failed fetch.
    NOT_ARTICLE = "newsarchive/not_article"
    PARSE_ERROR = "newsarchive/parse_error"
    BLOCKED = "newsarchive/blocked"
    UNSUPPORTED_URL = "newsarchive/unsupported_url"
    FETCH_FAILED = "newsarchive/fetch_failed"
    # Pages that failed, with URLs, for the run report (a list, not a count).
    FAILURE_LIST = "newsarchive/failure_list"
    # What the archive pipeline did with each item (pipelines/writer.py ArchiveResult.status).
    ARCHIVED = "newsarchive/archive/archived"
    NEW_VERSION = "newsarchive/archive/new_version"
    UNCHANGED = "newsarchive/archive/unchanged"
    REJECTED = "newsarchive/archive/rejected"
    REJECTED_SEEN = "newsarchive/archive/rejected_seen"
    SPOOLED = "newsarchive/archive/spooled"
    FLUSHED = "newsarchive/archive/flushed"
    PENDING = "newsarchive/archive/pending"

    def __repr__(self) -> str:
        # Scrapy's end-of-crawl stats dump shows keys by repr: show the plain name.
        return repr(self.value)

    @classmethod
    def of_reason(cls, reason: str) -> Stat:
        """The counter of a rejection reason or failure ("parse_error", "fetch_failed")."""
        return cls(f"newsarchive/{reason}")

    @classmethod
    def of_archive_status(cls, status: str) -> Stat:
        return cls(f"newsarchive/archive/{status}")


# The summary's counters, in the order the summary line prints them.
COUNTERS: dict[str, Stat] = {
    "discovered": Stat.DISCOVERED,
    "already_archived": Stat.ALREADY_ARCHIVED,
    "too_old": Stat.TOO_OLD,
    "offsite_refused": Stat.OFFSITE_REFUSED,
    "discovery_errors": Stat.DISCOVERY_ERRORS,
    "fetched": Stat.FETCHED,
    "parsed": Stat.PARSED,
    "archived": Stat.ARCHIVED,
    "new_versions": Stat.NEW_VERSION,
    "unchanged": Stat.UNCHANGED,
    "not_articles": Stat.NOT_ARTICLE,
    "blocked": Stat.BLOCKED,
    "rendered": Stat.RENDERED,
    "parse_errors": Stat.PARSE_ERROR,
    "fetch_failed": Stat.FETCH_FAILED,
    "unsupported": Stat.UNSUPPORTED_URL,
    "spooled": Stat.SPOOLED,
}
# Pages that did not become what they should have: weighed against crawl.max_failure_ratio.
FAILURES = ("parse_errors", "blocked", "fetch_failed")
ARTICLES = ("archived", "new_versions", "unchanged")
MAX_LISTED_FAILURES = 500


def counts_of(stats: Mapping[str, Any]) -> dict[str, int]:
    """The summary's counters from a crawler's stats."""
    return {name: int(stats.get(key, 0)) for name, key in COUNTERS.items()}


def failures_of(stats: Mapping[str, Any]) -> list[dict[str, str]]:
    return list(stats.get(Stat.FAILURE_LIST) or [])


@dataclass
class CrawlSummary:
    """Per-site counts of one crawl, and the problems that make it exit 1."""

    sites: dict[str, dict[str, int]] = field(default_factory=dict)
    unsupported_urls: list[str] = field(default_factory=list)
    # Items in the spool after the whole crawl (every spider shares one spool).
    pending_uploads: int = 0
    failures: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    skipped_locked: dict[str, str] = field(default_factory=dict)  # site -> lock holder
    discovery: bool = True  # False for a run of given URLs
    max_failure_ratio: float = 0.05

    @property
    def problems(self) -> list[str]:
        """Why this run counts as failed (exit 1); empty when it went well."""
        out = []
        for site, counts in sorted(self.sites.items()):
            failed = sum(counts[name] for name in FAILURES)
            pages = counts["fetched"] + counts["fetch_failed"]
            if counts["discovery_errors"]:
                out.append(
                    f"{site}: discovery broken ({counts['discovery_errors']} listing errors)"
                )
            elif self.discovery and counts["discovered"] == 0:
                out.append(f"{site}: the listings gave no articles at all")
            if pages and failed / pages > self.max_failure_ratio:
                out.append(
                    f"{site}: {failed} of {pages} pages failed, above "
                    f"{self.max_failure_ratio:.0%} (parse errors {counts['parse_errors']}, "
                    f"blocked {counts['blocked']}, fetch failed {counts['fetch_failed']})"
                )
            if counts["fetched"] and not any(counts[n] for n in (*ARTICLES, "not_articles")):
                out.append(f"{site}: zero articles from {counts['fetched']} pages fetched")
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

    def lines(self) -> list[str]:
        out = []
        for site, counts in sorted(self.sites.items()):
            shown = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in counts.items())
            out.append(f"{site}: {shown}")
            if counts["discovery_errors"]:
                out.append(f"{site}: DISCOVERY BROKEN, see the log (this is not 'no news today')")
            for failure in self.failures.get(site, [])[:20]:
                out.append(f"{site}: {failure['reason'].replace('_', ' ')}: {failure['url']}")
        for site, who in self.skipped_locked.items():
            out.append(f"{site}: skipped, a crawl of {site} is already running ({who})")
        out += [f"not a {site_titles()} article URL: {url}" for url in self.unsupported_urls]
        out.append(f"pending uploads {self.pending_uploads}")
        return out

    def report(self, started: datetime, ended: datetime, exit_status: int) -> dict[str, Any]:
        """The run report stored under runs/ (see crawler/reports.py)."""
        sites = {
            site: {
                **counts,
                "failures_total": sum(counts[name] for name in FAILURES),
                "failures": self.failures.get(site, []),
            }
            for site, counts in sorted(self.sites.items())
        }
        return {
            "started": started.isoformat(),
            "ended": ended.isoformat(),
            "seconds": round((ended - started).total_seconds(), 1),
            "mode": "discovery" if self.discovery else "urls",
            "exit_status": exit_status,
            "problems": self.problems,
            "sites": sites,
            "skipped_locked": sorted(self.skipped_locked),
            "unsupported_urls": self.unsupported_urls,
            "pending_uploads": self.pending_uploads,
        }
