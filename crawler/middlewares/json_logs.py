"""JSON log lines (`[logging] format = "json"`, `newsarchive --log-format json`).

Not a middleware at work: Scrapy re-installs its root log handler for every crawler after the
add-ons and extensions are built, and builds the downloader middlewares right after that, so
this is the first place where a formatter set on that handler stays. It puts
python-json-logger's formatter there (crawler/logs.py) and then leaves the download path
(NotConfigured, silently).
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.log import get_scrapy_root_handler

from crawler.addon import config_of
from crawler.logs import use_json


class JsonLogs:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLogs:
        if config_of(crawler).logging.format == "json":
            use_json(get_scrapy_root_handler())
        raise NotConfigured  # nothing to do for each request
