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
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin

import scrapy
from lxml import etree
from scrapy.http import Response

from crawler.items import BEIJING
from crawler.parsers.futu import LANGUAGES, SITEMAP_LANGUAGE
from crawler.sites import FUTU
from crawler.spiders.base import ArticleSpider

ORIGIN = FUTU.origins["base_url"]
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
API_HEADERS = {"Accept": "application/json, text/plain, */*"}


class FutuSpider(ArticleSpider):
    """`scrapy crawl futu` (discovery) or `scrapy crawl futu -a url=...` (manual)."""

    name = site = FUTU.name

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        settings = self.site_settings
        sources, languages = settings.sources, settings.languages
        if "sitemaps" in sources:
            yield self._listing(self.endpoint("base_url", "/sitemap.xml"), self.parse_sitemap_index)
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
            url, callback=callback, errback=self.listing_failed, headers=headers,
            cb_kwargs=kwargs, dont_filter=True,
        )  # fmt: skip

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

    async def parse_sitemap_index(self, response: Response) -> AsyncIterator[scrapy.Request]:
        root = _xml(response)
        locs = root.xpath("//sm:sitemap/sm:loc/text()", namespaces=NS) if root is not None else []
        if not locs:
            self.discovery_error(response, "sitemap index lists no sitemaps")
            return
        wanted = set(self.site_settings.languages)
        for loc in locs:
            name = loc.rsplit("/", 1)[-1]
            language = next((v for k, v in SITEMAP_LANGUAGE.items() if f"-{k}-" in name), None)
            if language in wanted and "quality" not in name:
                path = "/" + loc.split("/", 3)[3]
                url = self.endpoint("base_url", path)
                yield self._listing(url, self.parse_news_sitemap, language=language)

    async def parse_news_sitemap(
        self, response: Response, language: str
    ) -> AsyncIterator[scrapy.Request]:
        root = _xml(response)
        if root is None or root.tag != f"{{{NS['sm']}}}urlset":
            self.discovery_error(response, "not a news sitemap <urlset>")
            return
        for entry in root.iterfind("sm:url", NS):
            loc = entry.findtext("sm:loc", namespaces=NS)
            when = entry.findtext("news:news/news:publication_date", namespaces=NS)
            if not loc:
                self.discovery_error(response, "sitemap <url> without <loc>")
                continue
            url = _with_language(loc, language)
            request = await self.discovered(url, _iso(when), response.url)
            if request is not None:
                yield request

    async def parse_headlines(
        self, response: Response, language: str
    ) -> AsyncIterator[scrapy.Request]:
        data = self.json_of(response)
        items = _dig(data, "data", "list")
        if data is None or not isinstance(items, list) or data.get("code") != 0:
            if data is not None:
                self.discovery_error(response, "expected {code: 0, data: {list: [...]}}")
            return
        for item in items:
            if not isinstance(item, dict) or "url" not in item:
                self.discovery_error(response, "headline item without 'url'")
                continue
            url = _with_language(item["url"], language)
            request = await self.discovered(url, _epoch(item.get("timestamp")), response.url)
            if request is not None:
                yield request

    async def parse_flash(
        self, response: Response, language: str, page: int
    ) -> AsyncIterator[scrapy.Request]:
        """`{code, message, data: {code, message, stockColor, data: {seqMark, hasMore,
        news: [{id, time, detailUrl, targetUrlQuery, level, isAutoTranslated, ...}]}}}`;
        `id` and `time` (epoch seconds) are strings, `detailUrl` a path."""
        data = self.json_of(response)
        payload = _dig(data, "data", "data")
        news = payload.get("news") if isinstance(payload, dict) else None
        if data is None or not isinstance(news, list):
            if data is not None:
                self.discovery_error(response, "expected {data: {data: {news: [...]}}}")
            return
        oldest: datetime | None = None
        for item in news:
            if not isinstance(item, dict) or not isinstance(item.get("detailUrl"), str):
                self.discovery_error(response, "flash item without 'detailUrl'")
                continue
            published = _epoch(item.get("time"))
            if published is not None:
                oldest = published if oldest is None else min(oldest, published)
            url = _with_language(urljoin(f"{ORIGIN}/", item["detailUrl"]), language)
            request = await self.discovered(url, published, response.url)
            if request is not None:
                yield request
        cursor, more = payload.get("seqMark"), payload.get("hasMore") in (True, 1, "1", "true")
        if more and not isinstance(cursor, str):
            self.discovery_error(response, "hasMore without a seqMark cursor")
            return
        older_wanted = self.since is None or (oldest is not None and oldest >= self.since)
        if more and page < self.site_settings.max_pages and older_wanted:
            yield self._flash_request(language, cursor=cursor, page=page + 1)


def _xml(response: Response) -> Any:
    try:
        return etree.fromstring(response.body, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return None


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


def _epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC).astimezone(BEIJING)
    except (TypeError, ValueError, OverflowError):
        return None


def _iso(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
