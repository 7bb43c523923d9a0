"""Site parsers and the registry that picks one by URL.

Parsing is a pure function of (url, raw bytes, headers): no network, no Scrapy, no storage,
so the spiders, the CLI and a re-parse of archived raw pages all share it. Which parsers
exist is the site registry's word (crawler/sites.py), so a plug-in site's parser is here too.
"""

from __future__ import annotations

from collections.abc import Mapping

from crawler.items import Article
from crawler.parsers.base import PageRef, SiteParser
from crawler.parsers.errors import (
    BlockedByChallenge,
    LayoutChanged,
    MovedTo,
    NotAnArticle,
    PageRejected,
    ParseError,
    UnsupportedURL,
)
from crawler.sites import SITES

# Keyed by the site each parser says it parses: a test holds this equal to the registry.
PARSERS: dict[str, SiteParser] = {
    parser.site: parser for parser in (site.load_parser() for site in SITES.values())
}

__all__ = [
    "PARSERS",
    "Article",
    "BlockedByChallenge",
    "MovedTo",
    "NotAnArticle",
    "PageRef",
    "PageRejected",
    "ParseError",
    "UnsupportedURL",
    "identify",
    "parse",
    "parse_with",
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
    parser = parser_for(url)
    if not body.strip():
        raise ParseError(url, "body", "the page is empty")
    return parse_with(parser, url, body, headers or {})


def parse_with(parser: SiteParser, url: str, body: bytes, headers: Mapping[str, str]) -> Article:
    """The site parser's article; for a page none of its layouts recognises, the generic
    extractor's (`extraction == "generic"`), or the LayoutChanged when that finds none too.
    The one place both run in this order: crawls, `parse` and `reparse` all come here."""
    from crawler.parsers.generic import generic_article  # loads trafilatura: only when needed

    try:
        return parser.parse(url, body, headers)
    except LayoutChanged as changed:
        article = generic_article(parser, url, body, headers, changed)
        if article is None:
            raise
        return article
