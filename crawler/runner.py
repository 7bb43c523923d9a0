"""Run spiders in-process for the CLI and summarise what the crawl did from its stats."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.parsers import PARSERS, UnsupportedURL, identify

COUNTERS = {
    "discovered": "newsarchive/discovered",
    "already_archived": "newsarchive/already_archived",
    "too_old": "newsarchive/too_old",
    "offsite_refused": "newsarchive/offsite_refused",
    "discovery_errors": "newsarchive/discovery_errors",
    "fetched": "newsarchive/fetched",
    "parsed": "newsarchive/parsed",
    "archived": "newsarchive/archive/archived",
    "new_versions": "newsarchive/archive/new_version",
    "unchanged": "newsarchive/archive/unchanged",
    "not_articles": "newsarchive/not_article",
    "blocked": "newsarchive/blocked",
    "rendered": "newsarchive/rendered",  # challenge pages fetched again in Chromium
    "parse_errors": "newsarchive/parse_error",
    "fetch_failed": "newsarchive/fetch_failed",
    "unsupported": "newsarchive/unsupported_url",
    "spooled": "newsarchive/archive/spooled",
}
# Pages that did not become what they should have: weighed against crawl.max_failure_ratio.
FAILURES = ("parse_errors", "blocked", "fetch_failed")
ARTICLES = ("archived", "new_versions", "unchanged")


@dataclass
class CrawlSummary:
    """Per-site counts of one crawl, and the problems that make it exit 1."""

    sites: dict[str, dict[str, int]] = field(default_factory=dict)
    unsupported_urls: list[str] = field(default_factory=list)
    # Items in the spool after the whole crawl (both spiders share one spool).
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
        out += [f"not a Futu or Tencent article URL: {url}" for url in self.unsupported_urls]
        out.append(f"pending uploads {self.pending_uploads}")
        return out

    def report(self, started: datetime, ended: datetime, exit_status: int) -> dict[str, Any]:
        """The run report stored under runs/ (see crawler/runs.py)."""
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


def group_by_site(urls: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """URLs per site, and the ones no site recognises."""
    grouped: dict[str, list[str]] = defaultdict(list)
    unsupported = []
    for url in urls:
        try:
            grouped[identify(url).site].append(url)
        except UnsupportedURL:
            unsupported.append(url)
    return dict(grouped), unsupported


def run_crawl(
    urls_by_site: Mapping[str, list[str] | None],
    config_path: Path | None,
    overrides: Mapping[str, Any] | None = None,
    spider_args: Mapping[str, Any] | None = None,
) -> tuple[dict[str, dict[str, int]], dict[str, list[dict[str, str]]]]:
    """Crawl with the site spiders in one Scrapy process; per-site counts and failed pages.

    A site mapped to a URL list fetches those URLs; a site mapped to None runs discovery.
    """
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.spiders.base import FAILURES_STAT
    from crawler.spiders.futu import FutuSpider
    from crawler.spiders.tencent import TencentSpider

    spiders = {"futu": FutuSpider, "tencent": TencentSpider}
    settings = get_project_settings()
    # One report for the whole run, written by the caller (not one per spider).
    settings.set("NEWSARCHIVE_RUN_REPORT", False, priority="cmdline")
    if config_path is not None:
        settings.set("NEWSARCHIVE_CONFIG", str(config_path), priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = {}
    for site, urls in urls_by_site.items():
        if site not in PARSERS or urls == []:
            continue
        crawler = process.create_crawler(spiders[site])
        crawlers[site] = crawler
        process.crawl(crawler, urls=urls or None, **(spider_args or {}))
    process.start()
    return {site: counts_of(crawler.stats.get_stats()) for site, crawler in crawlers.items()}, {
        site: list(crawler.stats.get_value(FAILURES_STAT) or [])
        for site, crawler in crawlers.items()
    }


def counts_of(stats: Mapping[str, Any]) -> dict[str, int]:
    """The summary's counters from a crawler's stats."""
    return {name: int(stats.get(key, 0)) for name, key in COUNTERS.items()}
