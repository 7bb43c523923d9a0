"""Downloader middlewares that keep requests from vanishing without an outcome.

Scrapy drops a redirected request to a host outside `allowed_domains` when it is scheduled,
without calling its errback: the page would end in no outcome at all. This middleware sits
just before RedirectMiddleware on the way back from the downloader and turns such a redirect
into an `OffsiteRedirect` failure, which the spider's errback counts (outcome
`offsite_redirect`) and keeps as evidence (a removed article often redirects to a home page).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler.outcomes import IGNORED_MESSAGES

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class OffsiteRedirect(IgnoreRequest):
    """A redirect to a host the spider may not fetch; `response` is the redirect itself."""

    def __init__(self, response: Response, target: str) -> None:
        super().__init__(f"{IGNORED_MESSAGES['offsite_redirect']} to {target}")
        self.response = response
        self.target = target


class OffsiteRedirectGuard:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectGuard:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        allowed = getattr(self.crawler.spider, "allowed_domains", None)
        if response.status not in REDIRECT_STATUSES or not allowed:
            return response
        location = response.headers.get(b"Location")
        if not location or request.meta.get("dont_redirect"):
            return response
        target = urljoin(request.url, location.decode("latin-1"))
        host = urlsplit(target).hostname or ""
        if any(host == domain or host.endswith(f".{domain}") for domain in allowed):
            return response
        raise OffsiteRedirect(response, target)
