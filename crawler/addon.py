"""Configuration enters Scrapy here, once per crawler: one `Config` -> Scrapy settings.

`newsarchive crawl` hands the Config it already read to every crawler (the `NEWSARCHIVE`
setting, at cmdline priority), so one command reads the TOML once. A plain `scrapy crawl`
has none: the spider's `update_settings` loads it then (see `ensure_config`), because only
there does Scrapy report a bad setting as one line with exit status 2.

The values are set at `addon` priority, so `-s NAME=VALUE` and a spider's custom_settings
still win; for that, crawler/settings.py sets nothing the TOML owns. Components read the
Config from `crawler.settings[NEWSARCHIVE]` and take plain values from it. The names of the
settings newsarchive adds to Scrapy's live here, so the components import this module and it
imports none of them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings

from crawler.config import Config, ConfigError, load_config
from crawler.rendering import chromium_problem, render_settings
from pipelines.archive import ARCHIVE_SETTING

NEWSARCHIVE = "NEWSARCHIVE"  # the validated Config of this run
CONFIG_PATH = "NEWSARCHIVE_CONFIG"  # the TOML to read when no Config was handed over
RENDER_CHALLENGES = "NEWSARCHIVE_RENDER_CHALLENGES"  # `--render` / `-s ...=1`
STALL_TIMEOUT = "NEWSARCHIVE_STALL_TIMEOUT"  # seconds (the watchdog); from crawl.stall_timeout
RUN_REPORT = "NEWSARCHIVE_RUN_REPORT"  # False: the caller writes one report for the run
SEED_SINK = "NEWSARCHIVE_SEED_SINK"  # the seeder a discovery run queues into (`backfill`)


def ensure_config(settings: BaseSettings) -> Config:
    """The run's Config: the one handed over, or the TOML read now (UsageError if bad)."""
    config = settings.get(NEWSARCHIVE)
    if isinstance(config, Config):
        return config
    try:
        config = load_config(settings.get(CONFIG_PATH))
    except ConfigError as error:
        raise UsageError(str(error)) from None
    settings.set(NEWSARCHIVE, config, priority="cmdline")
    return config


def check_render_setup(settings: BaseSettings, config: Config) -> None:
    """Rendering asked for with no usable browser is a configuration error (exit 2), found
    before any fetch, not a crawl full of pages reported blocked."""
    if settings.getbool(RENDER_CHALLENGES) or config.crawl.render_challenges:
        problem = chromium_problem(config.crawl.chromium_path)
        if problem:
            raise UsageError(problem)


def config_of(crawler: Crawler) -> Config:
    """The Config a component of this crawler works with."""
    config = crawler.settings[NEWSARCHIVE]
    if not isinstance(config, Config):
        raise RuntimeError("NewsarchiveAddon is not enabled (crawler/settings.py ADDONS)")
    return config


def scrapy_settings(config: Config) -> dict[str, Any]:
    """The Scrapy settings the config decides."""
    crawl = config.crawl
    return {
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "RETRY_TIMES": crawl.retry_times,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "LOG_LEVEL": crawl.log_level,
        RENDER_CHALLENGES: crawl.render_challenges,
        STALL_TIMEOUT: crawl.stall_timeout,
        ARCHIVE_SETTING: config.archive,
    }


class NewsarchiveAddon:
    """Applies the run's Config to one crawler's settings (Scrapy's ADDONS)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NewsarchiveAddon:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        config = ensure_config(settings)
        settings.setdict(scrapy_settings(config), priority="addon")
        # Rendering is per spider: only a site whose parser knows when a page is ready.
        spider = self.crawler.spidercls
        ready = getattr(spider, "ready_selector", None)
        if settings.getbool(RENDER_CHALLENGES) and ready:
            site = config.site(spider.name)
            schemes = {urlsplit(url).scheme for url in site.base_urls().values()}
            settings.setdict(render_settings(config.crawl, schemes), priority="addon")
