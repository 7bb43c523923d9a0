"""Run the site spiders in one Scrapy process for the CLI, with the Config it already read.

Only the running: the sequence around it (checks, locks, summary, report) is session.py.
Imports no spider (they are found by name) and no command.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from crawler.config import Config
from crawler.health.summary import SiteRun
from crawler.parsers import UnsupportedURL, identify
from crawler.runs.interrupts import INTERRUPTIONS
from crawler.sites import SITES


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


# Scrapy's start-up and shut-down dumps (versions, overridden settings, every enabled
# component, the full stats): 100-400 lines per crawl on a cron mail. `newsarchive crawl`
# prints its own summary and stores the run report; crawl.log_level = "DEBUG" shows them.
STARTUP_LOGGERS = (
    "scrapy.utils.log",
    "scrapy.crawler",
    "scrapy.middleware",
    "scrapy.addons",
    "scrapy.statscollectors",
    "scrapy.extensions.logstats",
    "asyncio",  # "Using selector: EpollSelector", at DEBUG, on every crawl
)


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def quiet_startup() -> None:
    """A filter, not a level: Scrapy's logging set-up resets the levels of its loggers."""
    for name in STARTUP_LOGGERS:
        logger = logging.getLogger(name)
        if _warnings_only not in logger.filters:
            logger.addFilter(_warnings_only)


def run_crawl(
    urls_by_site: Mapping[str, list[str] | None],
    config: Config,
    overrides: Mapping[str, Any] | None = None,
    spider_args: Mapping[str, Any] | None = None,
    render: bool = False,
    spider_class: Callable[[type], type] | None = None,
) -> dict[str, SiteRun]:
    """Crawl with the site spiders in one Scrapy process; what each site's spider did.

    A site mapped to a URL list fetches those URLs; a site mapped to None runs discovery.
    Spiders are found by name (the site's), so a new site needs no change here. `render`
    sends challenge pages through Chromium (`--render`) whatever the config says.
    `spider_class` wraps each site's spider class (the frontier workers' RedisSpider).
    Scrapy is imported here, not at the top, so the scheduler and the readers never load it.
    """
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.addon import NEWSARCHIVE, RENDER_CHALLENGES, RUN_REPORT

    if config.crawl.log_level != "DEBUG":
        quiet_startup()
    settings = get_project_settings()
    # One report for the whole run, written by the caller (not one per spider).
    settings.set(RUN_REPORT, False, priority="cmdline")
    settings.set(NEWSARCHIVE, config, priority="cmdline")
    if render:
        settings.set(RENDER_CHALLENGES, True, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = {}
    for site, urls in urls_by_site.items():
        if site not in SITES or urls == []:
            continue
        spider: type | str = site
        if spider_class is not None:
            spider = spider_class(process.spider_loader.load(site))
        crawler = process.create_crawler(spider)
        crawlers[site] = crawler
        process.crawl(crawler, urls=urls or None, **(spider_args or {}))
    INTERRUPTIONS.attach(process)
    try:
        process.start(install_signal_handlers=False)  # ours: crawler/runs/interrupts.py
    finally:
        INTERRUPTIONS.detach()
    return {site: SiteRun.of(crawler.stats.get_stats()) for site, crawler in crawlers.items()}
