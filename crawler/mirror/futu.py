"""Futu's listings on the mirror, in the shapes the real site serves: the sitemap index and
its 48-hour Google-News sitemaps, the `news-site-api` headline and flash lists (language by
`x-news-site-lang`; the flash list nested as the real API nests it, paged by its `seqMark`
cursor and `hasMore`, ids and times as strings, `detailUrl` a path with a slug), and the WAF
cookie gate in front of a challenge page.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from xml.sax.saxutils import escape

from crawler.items import BEIJING
from crawler.mirror.fixtures import Fixture
from crawler.mirror.listing import Listed, json_route, query_value
from crawler.mirror.server import Handler, Route
from crawler.parsers import identify
from crawler.parsers.futu import LANGUAGES
from crawler.sites import FUTU

HOST = "/news.futunn.com"
LANGUAGE_BY_HEADER = {lang.api_header: code for code, lang in LANGUAGES.items()}
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
# Real headline lists point off-site too (src=12 went to WeChat).
OFFSITE_URL = "https://mp.weixin.qq.com/s/Qm9vZ3VzT2Zmc2l0ZQ"
DEMO_NOTES = [f"futu market listing: a link off the site ({OFFSITE_URL}): refused, never fetched"]
# The cookie the challenge script sets before reloading (waf-challenge fixture).
WAF_COOKIE = "wafToken"
# The index lists these; the zhhans one is an index itself (index -> index -> urlset), the
# English one is served gzipped, the quality one is listed but not served here.
SITEMAPS = (
    "zhhans-index-test-48hours",
    "zhhans-index-test-quality-48hours",
    "zhhant-index-test-48hours",
    "en-index-test-48hours",
)


def listed(fixture: Fixture) -> Listed | None:
    expected = fixture.expected()
    ref = identify(fixture.url)
    if ref.kind not in ("post", "flash") or not fixture.listed:  # an older era: in no listing
        return None
    article = expected.get("article") or {}
    if article:
        published = datetime.fromisoformat(article["published"])
    else:
        published = parsedate_to_datetime(fixture.headers["Date"]).astimezone(BEIJING)
    after = None
    if fixture.after_challenge is not None:
        headers = {k: v for k, v in fixture.headers.items() if k.lower() != "set-cookie"}
        after = Route(200, headers, fixture.after_challenge)
    num = ref.id.split("-")[1] if ref.kind == "flash" else ref.id.split("-")[0]
    return Listed(
        FUTU.name,
        num,
        ref.kind,
        ref.language,
        article.get("title", num),
        article.get("outlet") or "富途牛牛",
        published,
        Route(fixture.status, fixture.headers, fixture.body),
        is_article=fixture.read_by_layout,
        after_challenge=after,
    )


def generated_num(n: int, when: datetime) -> str:
    return str(90_000_000 + n)


def article_url(item: Listed) -> str:
    return (
        f"{FUTU.origins['base_url']}{LANGUAGES[item.language].path_prefix}/{item.kind}/{item.num}"
    )


def handlers(items: Sequence[Listed]) -> dict[str, Handler]:
    """The listing endpoints over the catalog's Futu items (newest first)."""
    mine = [i for i in items if i.site == FUTU.name]

    def index_of(locs: list[str]) -> Handler:
        def serve(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
            entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{SITEMAP_NS}">'
                f"{entries}</sitemapindex>"
            )
            return Route(200, {"Content-Type": "application/xml; charset=utf-8"}, xml.encode())

        return serve

    def gzipped(handler: Handler) -> Handler:
        def serve(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
            plain = handler(query, headers, body)
            return Route(200, {"Content-Type": "application/x-gzip"}, gzip.compress(plain.body))

        return serve

    def sitemap(language: str, news_language: str) -> Handler:
        def serve(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
            urls = []
            for item in mine:
                if item.kind != "post" or item.language != language:
                    continue
                # The sitemaps use /post/<id>/<slug> for every language (zhhant too).
                urls.append(
                    f"<url><loc>https://news.futunn.com/post/{item.num}/news-{item.num}</loc>"
                    f"<news:news><news:publication><news:name>{escape(item.outlet)}</news:name>"
                    f"<news:language>{news_language}</news:language></news:publication>"
                    f"<news:publication_date>{item.published.isoformat()}</news:publication_date>"
                    f"<news:title>{escape(item.title)}</news:title></news:news></url>"
                )
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">{"".join(urls)}</urlset>'
            )
            return Route(200, {"Content-Type": "application/xml; charset=utf-8"}, xml.encode())

        return serve

    def market_list(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
        language = LANGUAGE_BY_HEADER.get(headers.get("x-news-site-lang", "0"), "zh-CN")
        size = int(query_value(query, "size", "48"))
        posts = [i for i in mine if i.kind == "post" and i.language == language]
        entries = [
            {
                "newsId": int(i.num),
                "title": i.title,
                "source": i.outlet,
                "url": f"{article_url(i)}/news-{i.num}?src=3",
                "timestamp": int(i.published.timestamp()),
                "abstract": "",
                "pic": "",
                "isTop": 0,
                "imptTag": "",
            }
            for i in posts[:size]
        ]
        if language == "zh-CN":
            entries.append(
                {
                    "newsId": 1,
                    "title": "off-site",
                    "source": "微信",
                    "url": OFFSITE_URL,
                    "timestamp": entries[-1]["timestamp"] if entries else 0,
                }
            )
        return json_route({"code": 0, "message": "", "data": {"list": entries}})

    def flash_list(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
        language = LANGUAGE_BY_HEADER.get(headers.get("x-news-site-lang", "0"), "zh-CN")
        size = int(query_value(query, "pageSize", "30"))
        cursor = query_value(query, "seqMark", "")
        ordered = sorted(
            (i for i in mine if i.kind == "flash" and i.language == language),
            key=lambda i: (int(i.published.timestamp()), int(i.num)),
            reverse=True,
        )
        if cursor:  # "<oldest time>_<oldest id>" of the previous page: strictly older ones
            mark = tuple(int(part) for part in cursor.split("_", 1))
            ordered = [i for i in ordered if (int(i.published.timestamp()), int(i.num)) < mark]
        page, rest = ordered[:size], ordered[size:]
        news = [
            {
                "id": i.num,
                "newsUniqueId": f"n{i.num}",
                "title": i.title,
                "content": i.title,
                "time": str(int(i.published.timestamp())),
                "detailUrl": f"/flash/{i.num}/flash-news-{i.num}",
                "targetUrlQuery": "src=48",
                "source": i.outlet,
                "level": 0,
                "isAutoTranslated": int(i.language == "en"),
            }
            for i in page
        ]
        oldest = page[-1] if page else None
        inner = {
            "seqMark": f"{int(oldest.published.timestamp())}_{oldest.num}" if oldest else "",
            "hasMore": 1 if rest else 0,
            "news": news,
        }
        return json_route(
            {
                "code": 0,
                "message": "",
                "data": {"code": 0, "message": "", "stockColor": 1, "data": inner},
            }
        )

    origin = FUTU.origins["base_url"]
    top = [f"{origin}/sitemap-news-{name}.xml" for name in SITEMAPS]
    top[-1] += ".gz"
    routes: dict[str, Handler] = {
        f"{HOST}/sitemap.xml": index_of(top),
        f"{HOST}/sitemap-news-zhhans-index-test-48hours.xml": index_of(
            [f"{origin}/sitemap-news-zhhans-index-test-48hours-part1.xml"]
        ),
        f"{HOST}/sitemap-news-zhhans-index-test-48hours-part1.xml": sitemap("zh-CN", "zh-cn"),
        f"{HOST}/sitemap-news-zhhant-index-test-48hours.xml": sitemap("zh-HK", "zh-tw"),
        f"{HOST}/sitemap-news-en-index-test-48hours.xml.gz": gzipped(sitemap("en", "en")),
        f"{HOST}/news-site-api/main/get-market-list": market_list,
        f"{HOST}/news-site-api/main/get-flash-list": flash_list,
    }
    for item in mine:
        if item.after_challenge is not None:
            routes[f"{HOST}{LANGUAGES[item.language].path_prefix}/{item.kind}/{item.num}"] = (
                _challenge_gate(item)
            )
    return routes


def _challenge_gate(item: Listed) -> Handler:
    """Serve the challenge until the client comes back with the cookie its script sets.

    That is how the real WAF behaves (a `wafToken` cookie from a browser session gets the
    article), so only a client that runs the script, a browser, reaches the article.
    """

    def serve(query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Route:
        cookies = headers.get("cookie", "")
        passed = any(c.strip().startswith(WAF_COOKIE + "=") for c in cookies.split(";"))
        return item.after_challenge if passed and item.after_challenge else item.page

    return serve
