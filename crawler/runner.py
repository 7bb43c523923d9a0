"""Run spiders in-process for the CLI and summarise what the crawl did from its stats."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
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
PROBLEMS = ("blocked", "parse_errors", "fetch_failed", "unsupported", "discovery_errors")


@dataclass
class CrawlSummary:
    """Per-site counts of one crawl, and whether it went wrong."""

    sites: dict[str, dict[str, int]] = field(default_factory=dict)
    unsupported_urls: list[str] = field(default_factory=list)
    # Items in the spool after the whole crawl (both spiders share one spool).
    pending_uploads: int = 0

    @property
    def problems(self) -> int:
        total = len(self.unsupported_urls) + self.pending_uploads
        for counts in self.sites.values():
            total += sum(counts[name] for name in PROBLEMS)
        return total

    def lines(self) -> list[str]:
        out = []
        for site, counts in sorted(self.sites.items()):
            shown = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in counts.items())
            out.append(f"{site}: {shown}")
            if counts["discovery_errors"]:
                out.append(f"{site}: DISCOVERY BROKEN, see the log (this is not 'no news today')")
        out += [f"not a Futu or Tencent article URL: {url}" for url in self.unsupported_urls]
        out.append(f"pending uploads {self.pending_uploads}")
        return out


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
) -> dict[str, dict[str, int]]:
    """Crawl with the site spiders in one Scrapy process; per-site counts.

    A site mapped to a URL list fetches those URLs; a site mapped to None runs discovery.
    """
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.spiders.futu import FutuSpider
    from crawler.spiders.tencent import TencentSpider

    spiders = {"futu": FutuSpider, "tencent": TencentSpider}
    settings = get_project_settings()
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
    return {site: _counts(crawler.stats.get_stats()) for site, crawler in crawlers.items()}


def _counts(stats: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(stats.get(key, 0)) for name, key in COUNTERS.items()}
