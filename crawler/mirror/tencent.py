"""Tencent's listings on the mirror, in the shapes the real site serves: the
`web_feed/getPCList` channel feeds (POST, `flush_num` paging), `gw/event/hot_ranking_list`
(with its `TIP…` placeholder first, URLs ending in `?#`) and the sitemaps
(`/sitemap/index.xml` -> `sitemap_N.xml`, locs `/rain/a/<id>`, undated).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime

from crawler.items import BEIJING
from crawler.mirror.fixtures import Fixture
from crawler.mirror.listing import Listed, json_route, query_value
from crawler.mirror.server import Handler, Route
from crawler.parsers import identify
from crawler.sites import TENCENT

# Where each fixture is listed (a real site lists videos and deleted items too).
CHANNEL = {
    "current-window-data": "news_news_finance",
    "dom-fallback": "news_news_finance",
    "paywalled": "news_news_finance",
    "legacy-2020-layout": "news_news_finance",
    "multiline-broken-data": "news_news_tech",
    "gallery": "news_news_tech",
}
HOT = ("video", "headline-only")


def listed(fixture: Fixture) -> Listed | None:
    channel = CHANNEL.get(fixture.case, "hot" if fixture.case in HOT else "")
    if not channel:
        return None
    ref = identify(fixture.url)
    article = fixture.expected().get("article") or {}
    if article:
        published = datetime.fromisoformat(article["published"])
    else:
        published = parsedate_to_datetime(fixture.headers["Date"]).astimezone(BEIJING)
    return Listed(
        TENCENT.name,
        ref.id,
        "article",
        "zh-CN",
        article.get("title", ref.id),
        article.get("outlet") or "腾讯新闻",
        published,
        Route(fixture.status, fixture.headers, fixture.body),
        channel,
        is_article=fixture.read_by_layout,
    )


def generated_num(n: int, when: datetime) -> str:
    return f"{when:%Y%m%d}A{_base36(n):0>5}00"


def article_url(item: Listed) -> str:
    return f"{TENCENT.origins['base_url']}/rain/a/{item.num}"


def handlers(items: Sequence[Listed]) -> dict[str, Handler]:
    """The listing endpoints over the catalog's Tencent items (newest first)."""
    mine = [i for i in items if i.site == TENCENT.name]

    def pc_list(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
        request = json.loads(body or b"{}")
        channel = request.get("channel_id", "")
        count = int(request.get("item_count", 20))
        page = int(request.get("flush_num", 1))
        chunk = [i for i in mine if i.channel == channel][(page - 1) * count : page * count]
        data = [
            {
                "id": i.num,
                "title": i.title,
                "publish_time": f"{i.published:%Y-%m-%d %H:%M:%S}",
                "articletype": "0",
                "media_info": {"chl_name": i.outlet},
                "link_info": {"url": article_url(i)},
            }
            for i in chunk
        ]
        return json_route({"code": 0, "msg": "", "data": data})

    def hot_list(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
        size = int(query_value(query, "page_size", "20"))
        hot = [i for i in mine if i.channel == "hot"][:size]
        newslist: list[dict[str, object]] = [
            {"id": "TIP2026112600000000", "articletype": "560", "title": "提示"}
        ]
        # As the real list answers: the item URLs end in `?#`; a `timestamp` (epoch seconds)
        # beside the printed `time`; the ranking in `hotEvent`.
        newslist += [
            {
                "id": i.num,
                "title": i.title,
                "url": f"https://view.inews.qq.com/a/{i.num}?#",
                "surl": f"https://view.inews.qq.com/k/{i.num}?#",
                "shareUrl": f"https://view.inews.qq.com/a/{i.num}?#",
                "time": f"{i.published:%Y-%m-%d %H:%M:%S}",
                "timestamp": int(i.published.timestamp()),
                "source": i.outlet,
                "articletype": "0",
                "hotEvent": {"ranking": rank, "hotScore": 1000 - rank, "title": i.title},
            }
            for rank, i in enumerate(hot, 1)
        ]
        return json_route(
            {"ret": 0, "idlist": [{"ids_hash": "", "has_more": 0, "newslist": newslist}]}
        )

    listed_articles = [i for i in mine if i.channel]
    half = (len(listed_articles) + 1) // 2
    parts = [listed_articles[:half], listed_articles[half:]]

    def sitemap_index(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
        locs = "".join(
            f"<sitemap><loc>https://news.qq.com/sitemap/sitemap_{n}.xml</loc></sitemap>"
            for n in range(1, len(parts) + 1)
        )
        return _xml_route(f'<sitemapindex xmlns="{SITEMAP_NS}">{locs}</sitemapindex>')

    def sitemap_part(items: list[Listed]) -> Handler:
        def serve(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
            urls = "".join(f"<url><loc>{article_url(i)}</loc></url>" for i in items)
            return _xml_route(f'<urlset xmlns="{SITEMAP_NS}">{urls}</urlset>')

        return serve

    sitemaps: dict[str, Handler] = {"/news.qq.com/sitemap/index.xml": sitemap_index}
    for n, items in enumerate(parts, 1):
        sitemaps[f"/news.qq.com/sitemap/sitemap_{n}.xml"] = sitemap_part(items)
    return {
        **sitemaps,
        "/i.news.qq.com/web_feed/getPCList": pc_list,
        "/r.inews.qq.com/gw/event/hot_ranking_list": hot_list,
    }


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _xml_route(xml: str) -> Route:
    text = f'<?xml version="1.0" encoding="UTF-8"?>{xml}'
    return Route(200, {"Content-Type": "application/xml; charset=utf-8"}, text.encode())


def _base36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
