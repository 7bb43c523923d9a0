"""robots.txt for every request, in the place of Scrapy's RobotsTxtMiddleware (100)."""

from __future__ import annotations

from scrapy import Request
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

    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = await super().robot_parser(request)
        if parser is None:
            stored = self._parsers.get(urlparse_cached(request).netloc)
            if stored is not None and not isinstance(stored, Deferred):
                parser = stored
        return parser
