"""Futu news spider (news.futunn.com and the moomoo mirror).

Discovery: the 48-hour Google-News sitemaps listed in https://news.futunn.com/sitemap.xml
(not behind the WAF challenge; they carry publication time, title and outlet, in the format of
https://developers.google.com/search/docs/crawling-indexing/sitemaps/news-sitemap),
the `news-site-api` headline list per language (`x-news-site-lang` 0/1/2) and the flash list
per language, paged with the `seqMark` cursor each response hands back (`"<time>_<id>"` of its
oldest item) until `hasMore` is false, as other clients of this API page it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import scrapy
from scrapy.http import Response

from crawler.parsers.futu import LANGUAGES, SITEMAP_LANGUAGE
from crawler.sites import FUTU
from crawler.spiders.base import ArticleSpider
from crawler.spiders.plan import DiscoverySource, epoch_time

ORIGIN = FUTU.origins["base_url"]
API_HEADERS = {"Accept": "application/json, text/plain, */*"}


class FutuSpider(ArticleSpider):
    """`scrapy crawl futu` (discovery) or `scrapy crawl futu -a url=...` (manual)."""

    name = site = FUTU.name
    SOURCES = {
        "sitemaps": DiscoverySource("sitemaps", timedelta(hours=48), "the 48-hour news sitemaps"),
        "headlines": DiscoverySource(
            "headlines", timedelta(days=2), "the newest headline_size headlines (about 2 days)"
        ),
        "flash": DiscoverySource(
            "flash", timedelta(days=1), "max_pages x flash_page_size newest flashes (hours)"
        ),
    }

    def active_sources(self) -> list[DiscoverySource]:
        return [self.SOURCES[name] for name in self.site_settings.sources]

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        settings = self.site_settings
        sources, languages = settings.sources, settings.languages
        if "sitemaps" in sources:
            yield self._listing(self.endpoint("base_url", "/sitemap.xml"), self.parse_sitemap)
        for language in languages:
            headers = {**API_HEADERS, "x-news-site-lang": LANGUAGES[language].api_header}
            if "headlines" in sources:
                size = settings.headline_size
                url = self.endpoint("base_url", f"/news-site-api/main/get-market-list?size={size}")
                yield self._listing(url, self.parse_headlines, headers, language=language)
            if "flash" in sources:
                yield self._flash_request(language, cursor=None, page=1)

    def _listing(
        self, url: str, callback: Any, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.listing.failed,
            headers=headers,
            cb_kwargs=kwargs,
            dont_filter=True,
        )

    def _flash_request(self, language: str, cursor: str | None, page: int) -> scrapy.Request:
        size = self.site_settings.flash_page_size
        query = f"pageSize={size}" + (f"&seqMark={quote(cursor)}" if cursor else "")
        url = self.endpoint("base_url", f"/news-site-api/main/get-flash-list?{query}")
        headers = {
            **API_HEADERS,
            "x-news-site-lang": LANGUAGES[language].api_header,
            "Referer": f"{ORIGIN}{LANGUAGES[language].path_prefix}/main/live",
        }
        return self._listing(url, self.parse_flash, headers, language=language, page=page)

    async def parse_sitemap(
        self, response: Response, language: str | None = None, depth: int = 0
    ) -> AsyncIterator[scrapy.Request]:
        """An index (of indexes, of urlsets) or a urlset of the 48-hour news sitemaps. The
        language comes from the sitemap's name (`-zhhans-`, `-zhhant-`, `-en-`); every
        language's urlset lists pages as `/post/<id>/<slug>`."""
        sitemap = self.listing.sitemap(response, depth)
        if sitemap is None:
            return
        if sitemap.kind == "sitemapindex":
            wanted = set(self.site_settings.languages)
            for entry in sitemap:
                name = entry.loc.rsplit("/", 1)[-1]
                named = next((v for k, v in SITEMAP_LANGUAGE.items() if f"-{k}-" in name), None)
                chosen = named or language
                if "quality" in name or (chosen is not None and chosen not in wanted):
                    continue
                url = self.endpoint("base_url", urlsplit(entry.loc).path)
                yield self._listing(url, self.parse_sitemap, language=chosen, depth=depth + 1)
            return
        if language is None:
            self.listing.error(response, "a urlset whose language no sitemap name gives")
            return
        for entry in sitemap:
            request = await self.plan.discovered(
                _with_language(entry.loc, language), entry.published, response.url
            )
            if request is not None:
                yield request

    async def parse_headlines(
        self, response: Response, language: str
    ) -> AsyncIterator[scrapy.Request]:
        data = self.listing.json(response)
        items = _dig(data, "data", "list")
        if data is None or not isinstance(items, list) or data.get("code") != 0:
            if data is not None:
                self.listing.error(response, "expected {code: 0, data: {list: [...]}}")
            return
        for item in items:
            if not isinstance(item, dict) or "url" not in item:
                self.listing.error(response, "headline item without 'url'")
                continue
            url = _with_language(item["url"], language)
            request = await self.plan.discovered(
                url, epoch_time(item.get("timestamp")), response.url
            )
            if request is not None:
                yield request

    async def parse_flash(
        self, response: Response, language: str, page: int
    ) -> AsyncIterator[scrapy.Request]:
        """`{code, message, data: {code, message, stockColor, data: {seqMark, hasMore,
        news: [{id, time, detailUrl, targetUrlQuery, level, isAutoTranslated, ...}]}}}`;
        `id` and `time` (epoch seconds) are strings, `detailUrl` a path."""
        data = self.listing.json(response)
        payload = _dig(data, "data", "data")
        news = payload.get("news") if isinstance(payload, dict) else None
        if data is None or not isinstance(news, list):
            if data is not None:
                self.listing.error(response, "expected {data: {data: {news: [...]}}}")
            return
        oldest: datetime | None = None
        for item in news:
            if not isinstance(item, dict) or not isinstance(item.get("detailUrl"), str):
                self.listing.error(response, "flash item without 'detailUrl'")
                continue
            published = epoch_time(item.get("time"))
            if published is not None:
                oldest = published if oldest is None else min(oldest, published)
            url = _with_language(urljoin(f"{ORIGIN}/", item["detailUrl"]), language)
            request = await self.plan.discovered(url, published, response.url)
            if request is not None:
                yield request
        cursor, more = payload.get("seqMark"), payload.get("hasMore") in (True, 1, "1", "true")
        if more and not isinstance(cursor, str):
            self.listing.error(response, "hasMore without a seqMark cursor")
            return
        older_wanted = self.plan.since is None or (oldest is not None and oldest >= self.plan.since)
        if more and page < self.site_settings.max_pages and older_wanted:
            yield self._flash_request(language, cursor=cursor, page=page + 1)


def _with_language(url: str, language: str) -> str:
    """The list's language decides the page variant; sitemaps list every language as /post/."""
    for prefix in ("/en/", "/hk/"):
        url = url.replace(f"news.futunn.com{prefix}", "news.futunn.com/")
    return url.replace("news.futunn.com/", f"news.futunn.com{LANGUAGES[language].path_prefix}/", 1)


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
