"""Scrapy settings for newsarchive: the components, and Scrapy behaviour the TOML does not own.

What the TOML decides (user agent, robots.txt, delays, retries, timeouts, log level,
rendering) enters through `crawler.addon.NewsarchiveAddon` at `addon` priority, which is
below this module's `project` priority: so nothing here may set those names.
"""

from crawler import items as _items  # lower-case: Scrapy takes every UPPER name as a setting
from crawler import sites as _registry

BOT_NAME = "newsarchive"
# Every registered site's spider module, built-in or from an installed plug-in.
SPIDER_MODULES = sorted({site.spider_module for site in _registry.SITES.values()})
NEWSPIDER_MODULE = "crawler.spiders"

ADDONS = {"crawler.addon.NewsarchiveAddon": 0}
# `scrapy crawl` exits with the run's status (0 ok, 1 problems), not always 0.
COMMANDS_MODULE = "crawler.scrapy_commands"
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # nothing drives a crawl remotely; it would leave token files
# The spiders request each article once per run themselves; Scrapy's filter would drop a
# redirect to a URL seen before (a loop, two removed articles sent to one page) silently.
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"
# Before RedirectMiddleware (600) on the way back: an off-site redirect ends in an outcome.
# Our robots.txt middleware in Scrapy's place (100): it checks every request, not the first.
# WARC capture next to the downloader (950): responses as served, before decompression,
# redirects and retries.
DOWNLOADER_MIDDLEWARES = {
    # Not on the download path: sets the JSON log formatter where it stays (its docstring).
    "crawler.middlewares.json_logs.JsonLogs": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.RobotsTxtForEveryRequest": 100,
    # Before Scrapy's RetryMiddleware (550) sees a 429/503: holds it until its Retry-After.
    "crawler.middlewares.retry_after.RetryAfter": 560,
    "crawler.middlewares.offsite.OffsiteRedirectGuard": 650,
    # After the WARC capture kept the answer as served: a Wayback redirect capture is
    # followed in the archive, never on the news site.
    "crawler.middlewares.web_archive.FollowCaptureRedirects": 945,
    "crawler.middlewares.capture.WarcCapture": 950,
    # Next to the download: a Common Crawl record read by byte range becomes the response it
    # holds before the WARC capture (950) and the spider see it.
    "crawler.middlewares.web_archive.UnwrapWarcRecord": 955,
    # Frontier workers only (NotConfigured otherwise): the per-site rate shared by all of
    # them, last, so that only the fetch itself waits for its slot.
    "crawler.middlewares.rate_limit.SharedRateLimit": 960,
}
RETRY_ENABLED = True
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
FEED_EXPORT_ENCODING = "utf-8"
# `-O items.csv|.jsonl|.json`: one row per archived article, these columns in this order.
FEED_EXPORT_FIELDS = list(_items.FEED_FIELDS)
# Outputs of one response processed at once. Scrapy starts that many asyncio tasks for every
# response (default 100); an article page yields one item and a listing only requests, so 4
# lose nothing and save a tenth of the crawl's CPU (5,000-article crawl: 56-63 s -> 50 s).
CONCURRENT_ITEMS = 4
# Scrapy checks, for every response, whether its callback is a generator that returns a value:
# it parses the callback's source again each time (its cache is keyed by the bound method, a
# new object per request), about 5% of a crawl's reactor time. Our callbacks return nothing
# from generators (ruff and the tests would say), so the check is off.
WARN_ON_GENERATOR_RETURN_VALUE = False

ITEM_PIPELINES = {"pipelines.archive.ArchivePipeline": 300}
EXTENSIONS = {
    "crawler.extensions.report.RunReportExtension": 500,
    "crawler.extensions.watchdog.Watchdog": 510,
}

# Path of the TOML config; None = $NEWSARCHIVE_CONFIG or ./config/newsarchive.toml.
NEWSARCHIVE_CONFIG = None
