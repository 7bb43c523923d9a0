"""Scrapy settings for newsarchive. Site/archive/politeness values come from the TOML config
(crawler/config.py), applied by each spider's `update_settings`, so `scrapy crawl` and
`newsarchive crawl` behave the same."""

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
RETRY_ENABLED = True
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {"pipelines.archive.ArchivePipeline": 300}
EXTENSIONS = {"crawler.report_extension.RunReportExtension": 500}

# Path of the TOML config; None = $NEWSARCHIVE_CONFIG or ./config/newsarchive.toml.
NEWSARCHIVE_CONFIG = None
