"""robots.txt for every request, in the place of Scrapy's RobotsTxtMiddleware (100).

A robots.txt that cannot be fetched (the host is down, DNS fails) means "allowed" to Scrapy;
for the person reading the log it is one warning per host, not an ERROR with a traceback
from the robots.txt middleware and another from the retry middleware.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class RobotsTxtForEveryRequest(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, made to check every request.

    While robots.txt is being fetched, Scrapy 2.19 parks the other requests of that host on
    one Deferred and awaits it through `Deferred.asFuture`, which passes the result only to
    the first waiter: the others get None and go out unchecked (seen with 14 parallel
    article requests, 1 checked). Here a waiter that got None takes the parser that is
    stored by then.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        for name, only in ((ROBOTS_LOGGER, one_warning), (RETRY_LOGGER, not_about_robots_txt)):
            logger = logging.getLogger(name)
            if only not in logger.filters:
                logger.addFilter(only)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = await super().robot_parser(request)
        if parser is None:
            stored = self._parsers.get(urlparse_cached(request).netloc)
            if stored is not None and not isinstance(stored, Deferred):
                parser = stored
        return parser


ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"
RETRY_LOGGER = "scrapy.downloadermiddlewares.retry"


def one_warning(record: logging.LogRecord) -> bool:
    """Scrapy's "Error downloading <request>: <why>" for a robots.txt it could not fetch,
    made one warning line that says what happens next."""
    if record.levelno >= logging.ERROR and record.msg.startswith("Error downloading"):
        args: Any = record.args
        request, why = args["request"], args["f_exception"]
        record.msg = "robots.txt of %s not fetched (%s): its pages are fetched as allowed"
        record.args = (urlparse_cached(request).netloc, why)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
    return True


def not_about_robots_txt(record: logging.LogRecord) -> bool:
    """The retry middleware's "Gave up retrying" for robots.txt itself: said once already."""
    args: Any = record.args
    request = args.get("request") if isinstance(args, dict) else None
    return not (request is not None and urlparse_cached(request).path == "/robots.txt")
