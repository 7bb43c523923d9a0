"""Tencent news spider (news.qq.com/rain/a/<id> and its URL variants).

Discovery: the `web_feed/getPCList` channel feeds behind https://news.qq.com (POST JSON,
paged by `flush_num`, stop on an empty page) and the hot ranking list (its first item is a
`TIP…` placeholder). Listed ids are normalised to news.qq.com/rain/a/<id>; videos and other
non-article types are counted, not fetched.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.parsers.dates import parse_local_time
from crawler.parsers.tencent import LISTED_NON_ARTICLES
from crawler.sites import TENCENT
from crawler.spiders.base import ArticleSpider
from crawler.spiders.plan import DiscoverySource, epoch_time
from crawler.stats import Stat

REFERER = TENCENT.origins["base_url"] + "/"


class TencentSpider(ArticleSpider):
    """`scrapy crawl tencent` (discovery) or `scrapy crawl tencent -a url=...` (manual)."""

    name = site = TENCENT.name
    SOURCES = {
        "feeds": DiscoverySource(
            "feeds", timedelta(days=2), "max_pages x item_count newest per channel (about 2 days)"
        ),
        "hot": DiscoverySource("hot", timedelta(days=1), "today's hot ranking"),
        "sitemaps": DiscoverySource("sitemaps", None, "news.qq.com/sitemap/index.xml, undated"),
    }

    def active_sources(self) -> list[DiscoverySource]:
        settings = self.site_settings
        wanted = {
            "feeds": bool(settings.channels),
            "hot": settings.hot_ranking,
            "sitemaps": settings.sitemaps,
        }
        return [source for name, source in self.SOURCES.items() if wanted[name]]

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        device = uuid.uuid4().hex  # feeds want some device id; a random one per run works
        for channel in self.site_settings.channels:
            yield self._feed_request(channel, page=1, device=device)
        if self.site_settings.sitemaps:
            yield scrapy.Request(
                self.endpoint("base_url", "/sitemap/index.xml"),
                callback=self.parse_sitemap,
                errback=self.listing.failed,
                dont_filter=True,
            )
        if self.site_settings.hot_ranking:
            size = self.site_settings.item_count
            yield scrapy.Request(
                self.endpoint("hot_base_url", f"/gw/event/hot_ranking_list?page_size={size}"),
                callback=self.parse_hot,
                errback=self.listing.failed,
                dont_filter=True,
                headers={"Referer": REFERER},
            )

    def _feed_request(self, channel: str, page: int, device: str) -> scrapy.Request:
        body = {
            "base_req": {"from": "pc"},
            "forward": "2",
            "qimei36": device,
            "device_id": device,
            "flush_num": page,
            "channel_id": channel,
            "item_count": self.site_settings.item_count,
            "is_local_chlid": "0",
        }
        return scrapy.Request(
            self.endpoint("api_base_url", "/web_feed/getPCList"),
            method="POST",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Referer": REFERER},
            callback=self.parse_feed,
            errback=self.listing.failed,
            dont_filter=True,
            cb_kwargs={"channel": channel, "page": page, "device": device},
        )

    async def parse_feed(
        self, response: Response, channel: str, page: int, device: str
    ) -> AsyncIterator[scrapy.Request]:
        data = self.listing.json(response)
        if data is None:
            return
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("code") != 0 or not isinstance(items, list):
            self.listing.error(response, f"expected {{code: 0, data: [...]}} for {channel}")
            return
        oldest: datetime | None = None
        for item in _flatten(items):
            published = _time(item.get("publish_time"))
            if published is not None:
                oldest = published if oldest is None else min(oldest, published)
            request = await self._listed(item, published, response)
            if request is not None:
                yield request
        older_wanted = self.plan.since is None or (oldest is not None and oldest >= self.plan.since)
        if items and page < self.site_settings.max_pages and older_wanted:
            yield self._feed_request(channel, page + 1, device)

    async def parse_hot(self, response: Response) -> AsyncIterator[scrapy.Request]:
        """`{ret: 0, idlist: [{newslist: [{id, url (ends in ?#), time, timestamp,
        hotEvent, ...}]}]}`; anything else is a counted discovery error."""
        data = self.listing.json(response)
        if data is None:
            return
        idlist = data.get("idlist") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("ret") != 0 or not isinstance(idlist, list):
            self.listing.error(response, "expected {ret: 0, idlist: [{newslist: [...]}]}")
            return
        blocks = [b for b in idlist if isinstance(b, dict) and isinstance(b.get("newslist"), list)]
        if not blocks:
            self.listing.error(response, "hot ranking list without a newslist")
            return
        for block in blocks:
            for item in block["newslist"]:
                if not isinstance(item, dict):
                    self.listing.error(response, "hot ranking item that is not an object")
                    continue
                published = _time(item.get("time")) or epoch_time(item.get("timestamp"))
                request = await self._listed(item, published, response)
                if request is not None:
                    yield request

    async def parse_sitemap(
        self, response: Response, depth: int = 0
    ) -> AsyncIterator[scrapy.Request]:
        """news.qq.com/sitemap/index.xml -> sitemap_N.xml, whose locs are /rain/a/<id>."""
        sitemap = self.listing.sitemap(response, depth)
        if sitemap is None:
            return
        if sitemap.kind == "sitemapindex":
            for entry in sitemap:
                yield scrapy.Request(
                    self.endpoint("base_url", urlsplit(entry.loc).path),
                    callback=self.parse_sitemap,
                    errback=self.listing.failed,
                    dont_filter=True,
                    cb_kwargs={"depth": depth + 1},
                )
            return
        for entry in sitemap:
            request = await self.plan.discovered(entry.loc, entry.published, response.url)
            if request is not None:
                yield request

    async def _listed(
        self, item: dict, published: datetime | None, response: Response
    ) -> scrapy.Request | None:
        ident = item.get("id")
        if not ident:
            self.listing.error(response, "listed item without 'id'")
            return None
        kind = LISTED_NON_ARTICLES.get(str(item.get("articletype", "0")))
        if kind or str(ident).startswith("TIP"):
            self.crawler.stats.inc_value(Stat.LISTED_NON_ARTICLES)
            return None
        link_info = item.get("link_info")
        link = (link_info.get("url") if isinstance(link_info, dict) else None) or item.get("url")
        url = link if isinstance(link, str) and link else f"https://news.qq.com/rain/a/{ident}"
        return await self.plan.discovered(url, published, response.url)


def _flatten(items: list) -> Iterable[dict]:
    """Grouped modules (articletype 525) carry their real articles in `sub_item`."""
    for item in items:
        if not isinstance(item, dict):
            continue
        if str(item.get("articletype")) == "525" and isinstance(item.get("sub_item"), list):
            yield from (sub for sub in item["sub_item"] if isinstance(sub, dict))
        else:
            yield item


def _time(value: object) -> datetime | None:
    return parse_local_time(value, {}) if isinstance(value, str) and value else None
