"""What the local mirror lists: the fixture pages plus generated articles, in the listing
shapes the real sites use (../shared/research): Futu's sitemap index and 48-hour Google-News
sitemaps, `news-site-api` headline and flash lists (language by `x-news-site-lang`, flash
paging by `lastTime`), Tencent's `web_feed/getPCList` channel feeds (POST, `flush_num` paging)
and `gw/event/hot_ranking_list` (with its `TIP…` placeholder first).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.sax.saxutils import escape

from crawler.fixtures import Fixture
from crawler.mirror import Route, mirror_path
from crawler.parsers import identify
from crawler.parsers.dates import BEIJING

FUTU_LANG_HEADER = {"0": "zh-CN", "1": "zh-HK", "2": "en"}
FUTU_PREFIX = {"zh-CN": "", "zh-HK": "/hk", "en": "/en"}
# Where each fixture is listed (a real site lists videos and deleted items too).
TENCENT_CHANNEL = {
    "current-window-data": "news_news_finance",
    "dom-fallback": "news_news_finance",
    "paywalled": "news_news_finance",
    "legacy-2020-layout": "news_news_finance",
    "multiline-broken-data": "news_news_tech",
    "gallery": "news_news_tech",
}
TENCENT_HOT = ("video", "headline-only")
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
OFFSITE_URL = "https://mp.weixin.qq.com/s/Qm9vZ3VzT2Zmc2l0ZQ"
# The cookie the challenge script sets before reloading (waf-challenge fixture).
WAF_COOKIE = "wafToken"


@dataclass(frozen=True)
class Listed:
    """One article as the listings show it."""

    site: str
    num: str  # Futu post/flash number or Tencent id
    kind: str  # post | flash | article
    language: str
    title: str
    outlet: str
    published: datetime
    page: Route
    channel: str = ""
    is_article: bool = True  # False for the challenge, deleted, video... fixtures
    # For a challenge page: what a client that ran the challenge script gets instead.
    after_challenge: Route | None = None


def listed_from_fixture(fixture: Fixture) -> Listed | None:
    expected = fixture.expected()
    ref = identify(fixture.url)
    article = expected.get("article") or {}
    if article:
        published = datetime.fromisoformat(article["published"])
    else:
        published = parsedate_to_datetime(fixture.headers["Date"]).astimezone(BEIJING)
    page = Route(fixture.status, fixture.headers, fixture.body)
    after = None
    if fixture.after_challenge is not None:
        headers = {k: v for k, v in fixture.headers.items() if k.lower() != "set-cookie"}
        after = Route(200, headers, fixture.after_challenge)
    if ref.site == "futu":
        num = ref.id.split("-")[1] if ref.kind == "flash" else ref.id.split("-")[0]
        return Listed("futu", num, ref.kind, ref.language, article.get("title", num),
                      article.get("outlet") or "富途牛牛", published, page,
                      is_article=bool(article), after_challenge=after)  # fmt: skip
    channel = TENCENT_CHANNEL.get(fixture.case, "hot" if fixture.case in TENCENT_HOT else "")
    if not channel:
        return None
    return Listed("tencent", ref.id, "article", "zh-CN", article.get("title", ref.id),
                  article.get("outlet") or "腾讯新闻", published, page, channel,
                  is_article=bool(article))  # fmt: skip


def generated(templates: list[Listed], count: int, newest: datetime) -> list[Listed]:
    """`count` more articles cloned from templates, one minute apart going back from newest."""
    out = []
    for n in range(count):
        template = templates[n % len(templates)]
        when = newest - timedelta(minutes=n + 1)
        futu = template.site == "futu"
        num = str(90_000_000 + n) if futu else f"{when:%Y%m%d}A{_base36(n):0>5}00"
        out.append(
            Listed(template.site, num, template.kind, template.language,
                   f"{template.title} #{n}", template.outlet, when, template.page, template.channel)
        )  # fmt: skip
    return out


def _base36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


class Catalog:
    """Pages and listing handlers for the mirror."""

    def __init__(self, fixtures: Iterable[Fixture], extra_articles: int = 0) -> None:
        listed = [x for x in (listed_from_fixture(f) for f in fixtures) if x is not None]
        newest = max(x.published for x in listed)
        for site in ("futu", "tencent"):
            templates = [x for x in listed if x.site == site and x.is_article]
            share = extra_articles // 2 + (extra_articles % 2 if site == "futu" else 0)
            listed += generated(templates, share, newest) if templates else []
        self.items = sorted(listed, key=lambda x: x.published, reverse=True)

    def url(self, item: Listed) -> str:
        if item.site == "tencent":
            return f"https://news.qq.com/rain/a/{item.num}"
        return f"https://news.futunn.com{FUTU_PREFIX[item.language]}/{item.kind}/{item.num}"

    def routes(self) -> dict[str, Route]:
        return {mirror_path(identify(self.url(i)).url): i.page for i in self.items}

    def handlers(self) -> dict[str, object]:
        return {
            "/news.futunn.com/sitemap.xml": self.futu_sitemap_index,
            "/news.futunn.com/sitemap-news-zhhans-index-test-48hours.xml": self.futu_sitemap_zhhans,
            "/news.futunn.com/sitemap-news-zhhant-index-test-48hours.xml": self.futu_sitemap_zhhant,
            "/news.futunn.com/news-site-api/main/get-market-list": self.futu_market_list,
            "/news.futunn.com/news-site-api/main/get-flash-list": self.futu_flash_list,
            "/i.news.qq.com/web_feed/getPCList": self.tencent_pc_list,
            "/r.inews.qq.com/gw/event/hot_ranking_list": self.tencent_hot_list,
            **{
                mirror_path(identify(self.url(i)).url): _challenge_gate(i)
                for i in self.items
                if i.after_challenge is not None
            },
        }

    # --- Futu ---------------------------------------------------------------------------
    def futu_sitemap_index(self, query: dict, headers: dict, body: bytes) -> Route:
        names = ("zhhans-index-test-48hours", "zhhans-index-test-quality-48hours",
                 "zhhant-index-test-48hours")  # fmt: skip
        locs = "".join(
            f"<sitemap><loc>https://news.futunn.com/sitemap-news-{n}.xml</loc></sitemap>"
            for n in names
            if "quality" not in n  # listed by the real index, served empty/404 here
        )
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{SITEMAP_NS}">'
            f"{locs}</sitemapindex>"
        )
        return Route(200, {"Content-Type": "application/xml; charset=utf-8"}, xml.encode())

    def _sitemap(self, language: str, news_language: str) -> Route:
        urls = []
        for item in self.items:
            if item.site != "futu" or item.kind != "post" or item.language != language:
                continue
            # The sitemaps use /post/<id>/<slug> for every language (research: zhhant too).
            urls.append(
                f"<url><loc>https://news.futunn.com/post/{item.num}/news-{item.num}</loc><news:news>"
                f"<news:publication><news:name>{escape(item.outlet)}</news:name>"
                f"<news:language>{news_language}</news:language></news:publication>"
                f"<news:publication_date>{item.published.isoformat()}</news:publication_date>"
                f"<news:title>{escape(item.title)}</news:title></news:news></url>"
            )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">{"".join(urls)}</urlset>'
        )
        return Route(200, {"Content-Type": "application/xml; charset=utf-8"}, xml.encode())

    def futu_sitemap_zhhans(self, query: dict, headers: dict, body: bytes) -> Route:
        return self._sitemap("zh-CN", "zh-cn")

    def futu_sitemap_zhhant(self, query: dict, headers: dict, body: bytes) -> Route:
        return self._sitemap("zh-HK", "zh-tw")

    def futu_market_list(self, query: dict, headers: dict, body: bytes) -> Route:
        language = FUTU_LANG_HEADER.get(headers.get("x-news-site-lang", "0"), "zh-CN")
        size = int(_q(query, "size", "48"))
        items = [
            i
            for i in self.items
            if i.site == "futu" and i.kind == "post" and i.language == language
        ]
        entries = [
            {"newsId": int(i.num), "title": i.title, "source": i.outlet,
             "url": f"{self.url(i)}/news-{i.num}?src=3", "timestamp": int(i.published.timestamp()),
             "abstract": "", "pic": "", "isTop": 0, "imptTag": ""}
            for i in items[:size]
        ]  # fmt: skip
        if language == "zh-CN":  # real lists point off-site too (src=12 went to WeChat)
            entries.append({"newsId": 1, "title": "off-site", "source": "微信", "url": OFFSITE_URL,
                            "timestamp": entries[-1]["timestamp"] if entries else 0})  # fmt: skip
        return _json({"code": 0, "message": "", "data": {"list": entries}})

    def futu_flash_list(self, query: dict, headers: dict, body: bytes) -> Route:
        language = FUTU_LANG_HEADER.get(headers.get("x-news-site-lang", "0"), "zh-CN")
        size = int(_q(query, "pageSize", "30"))
        last = int(_q(query, "lastTime", "0"))
        items = [
            i for i in self.items
            if i.site == "futu" and i.kind == "flash" and i.language == language
            and (last == 0 or i.published.timestamp() < last)
        ][:size]  # fmt: skip
        news = [
            {"id": int(i.num), "newsUniqueId": f"n{i.num}", "title": i.title, "content": i.title,
             "time": int(i.published.timestamp()), "detailUrl": f"{self.url(i)}?src=48",
             "source": i.outlet, "level": 0, "isAutoTranslated": i.language == "en"}
            for i in items
        ]  # fmt: skip
        return _json({"code": 0, "message": "", "data": {"data": {"news": news}}})

    # --- Tencent ------------------------------------------------------------------------
    def tencent_pc_list(self, query: dict, headers: dict, body: bytes) -> Route:
        request = json.loads(body or b"{}")
        channel = request.get("channel_id", "")
        count = int(request.get("item_count", 20))
        page = int(request.get("flush_num", 1))
        items = [i for i in self.items if i.site == "tencent" and i.channel == channel]
        chunk = items[(page - 1) * count : page * count]
        data = [
            {"id": i.num, "title": i.title, "publish_time": f"{i.published:%Y-%m-%d %H:%M:%S}",
             "articletype": "0", "media_info": {"chl_name": i.outlet},
             "link_info": {"url": f"https://news.qq.com/rain/a/{i.num}"}}
            for i in chunk
        ]  # fmt: skip
        return _json({"code": 0, "msg": "", "data": data})

    def tencent_hot_list(self, query: dict, headers: dict, body: bytes) -> Route:
        size = int(_q(query, "page_size", "20"))
        items = [i for i in self.items if i.site == "tencent" and i.channel == "hot"][:size]
        newslist = [{"id": "TIP2026112600000000", "articletype": "560", "title": "提示"}]
        newslist += [
            {"id": i.num, "title": i.title, "url": f"https://view.inews.qq.com/a/{i.num}",
             "time": f"{i.published:%Y-%m-%d %H:%M:%S}", "source": i.outlet, "articletype": "0"}
            for i in items
        ]  # fmt: skip
        return _json({"ret": 0, "idlist": [{"ids_hash": "", "has_more": 0, "newslist": newslist}]})


def _challenge_gate(item: Listed) -> Callable[[dict, dict, bytes], Route]:
    """Serve the challenge until the client comes back with the cookie its script sets.

    That is how the real WAF behaves (research: a `wafToken` cookie from a browser session
    gets the article), so only a client that runs the script, a browser, reaches the article.
    """

    def serve(query: dict, headers: dict, body: bytes) -> Route:
        cookies = headers.get("cookie", "")
        passed = any(c.strip().startswith(WAF_COOKIE + "=") for c in cookies.split(";"))
        return item.after_challenge if passed and item.after_challenge else item.page

    return serve


def _q(query: dict, name: str, default: str) -> str:
    return query.get(name, [default])[0]


def _json(value: object) -> Route:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Route(200, {"Content-Type": "application/json; charset=utf-8"}, body)
