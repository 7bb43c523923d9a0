"""Sitemaps as the sites serve them, read with Scrapy's own sitemap support.

`scrapy.utils.sitemap.Sitemap` reads a sitemap index and a urlset alike (so an index of
indexes is only one more level) with a recovering, entity-free XML parser; a gzipped sitemap
is unpacked first with Scrapy's size-bounded `gunzip`. One addition: Google-News sitemaps nest
the publication time (`<news:news><news:publication_date>`), which Scrapy's flat per-entry dict
drops, so this reader keeps it as `publication_date`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit, uncompressed
MAX_DEPTH = 3  # index -> index -> urlset, and one level of slack


class NewsSitemap(Sitemap):
    """Scrapy's Sitemap, keeping the Google-News publication date of each `<url>`."""

    __slots__ = ()

    def _process_sitemap_element(self, elem: Any) -> dict[str, Any] | None:
        entry = super()._process_sitemap_element(elem)
        if entry is not None:
            published = elem.find(f".//{NEWS_NS}publication_date")
            if published is not None and published.text:
                entry["publication_date"] = published.text.strip()
        return entry


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    published: datetime | None


@dataclass(frozen=True)
class ReadSitemap:
    """A sitemap's kind ("sitemapindex" or "urlset") and its entries."""

    kind: str
    entries: tuple[SitemapEntry, ...]

    def __iter__(self) -> Iterator[SitemapEntry]:
        return iter(self.entries)


def read_sitemap(response: Response) -> ReadSitemap | None:
    """The sitemap in a response (gzipped or not), or None when it is not one."""
    body = response.body
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
        except (OSError, ValueError):
            return None
    try:
        sitemap = NewsSitemap(body)
        entries = tuple(
            SitemapEntry(entry["loc"], _iso(entry.get("publication_date"))) for entry in sitemap
        )
    except (etree.XMLSyntaxError, StopIteration, KeyError):
        return None
    if sitemap.type not in ("sitemapindex", "urlset"):
        return None
    return ReadSitemap(sitemap.type, entries)


def _iso(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
