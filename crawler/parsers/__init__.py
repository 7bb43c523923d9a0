"""Site parsers and the registry that picks one by URL.

Parsing is a pure function of (url, raw bytes, headers): no network, no Scrapy, no storage,
so the spiders, the CLI and a re-parse of archived raw pages all share it.
"""

from __future__ import annotations

from collections.abc import Mapping

from crawler.parsers.article import Article
from crawler.parsers.base import PageRef, SiteParser
from crawler.parsers.errors import (
    BlockedByChallenge,
    NotAnArticle,
    PageRejected,
    ParseError,
    UnsupportedURL,
)
from crawler.parsers.futu import FutuParser
from crawler.parsers.tencent import TencentParser

PARSERS: dict[str, SiteParser] = {p.site: p for p in (FutuParser(), TencentParser())}

__all__ = [
    "PARSERS",
    "Article",
    "BlockedByChallenge",
    "NotAnArticle",
    "PageRef",
    "PageRejected",
    "ParseError",
    "UnsupportedURL",
    "identify",
    "parse",
    "parser_for",
]


def identify(url: str) -> PageRef:
    """The site and identity of an article URL; UnsupportedURL when no site claims it."""
    for parser in PARSERS.values():
        ref = parser.identify(url)
        if ref is not None:
            return ref
    raise UnsupportedURL(url, "no site parser recognises this URL")


def parser_for(url: str) -> SiteParser:
    """The parser of the site the URL belongs to."""
    return PARSERS[identify(url).site]


def parse(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Article:
    """Parse a page as served; raises a PageRejected subclass when there is no article."""
    return parser_for(url).parse(url, body, headers or {})
