"""Futu news (news.futunn.com and its moomoo mirror): post and flash pages.

Layout facts come from pages served by https://news.futunn.com: the body is server-rendered in
`.origin_content` (moomoo: `div.inner.origin_content`), stock tags are `a.nnstock` with `$...$`
text, `.futu-news-time-stamp`, topic tags and `#relatedStockWeb` are noise. The 2023 layout
kept the body in `#newsDetail #content`, without the `origin_content` class; it is the second
container selector. Since 2026-08 a WAF answers non-browser clients with an obfuscated
JavaScript shell that has no article container at all.

Boilerplate whose place in the DOM is not documented (translation notice, risk disclaimer,
comment/share/related/app widgets) is removed both by selector and by its exact text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

from lxml.etree import _Element

from crawler.items import Article
from crawler.parsers.base import PageRef, first, parse_document, select_text, selectors, union
from crawler.parsers.blocks import Noise, remove, text_blocks
from crawler.parsers.dates import parse_local_time
from crawler.parsers.errors import BlockedByChallenge, LayoutChanged, ParseError, Removed
from crawler.parsers.layouts import Layout, by_marker, merged
from crawler.parsers.text import (
    Boilerplate,
    compile_all,
    decode_page,
    first_match,
    is_mojibake,
    sentences,
)
from crawler.sites import FUTU_LANGUAGES


@dataclass(frozen=True)
class Language:
    """How one language edition of the site is addressed."""

    path_prefix: str  # URL path prefix of its pages ("" for Simplified Chinese)
    api_header: str  # value of the `x-news-site-lang` header of the listing APIs


# The one table of the site's languages (the spider and the mirror read it too).
LANGUAGES = {"zh-CN": Language("", "0"), "zh-HK": Language("/hk", "1"), "en": Language("/en", "2")}
if set(LANGUAGES) != set(FUTU_LANGUAGES):  # the settings' choices come from crawler/sites.py
    raise ValueError("LANGUAGES must describe exactly the languages crawler.sites allows")
# Which news sitemap lists which language (zhhans = Simplified, zhhant = Traditional).
SITEMAP_LANGUAGE = {"zhhans": "zh-CN", "zhhant": "zh-HK", "en": "en"}

URL_PATTERN = re.compile(
    r"^https?://(?P<host>news\.futunn\.com|www\.moomoo\.com/news|news\.moomoo\.com)"
    r"(?:/(?P<prefix>hk|en))?/(?P<kind>post|flash)/(?P<num>\d+)(?:[/?#]|$)",
    re.IGNORECASE,
)
# Older URL forms seen in captures of the Futu home page: /market/<id>?src=3 (2018) and
# /section/<id> (2017). No layout of this parser knows their pages yet: they are identified
# (same archive ids in every run) and read by the generic extractor, flagged layout_unknown.
LEGACY_URL_PATTERN = re.compile(
    r"^https?://news\.futunn\.com/(?P<kind>market|section)/(?P<num>\d+)(?:[/?#]|$)",
    re.IGNORECASE,
)
LEGACY_KINDS = {"market": "2018", "section": "2017"}  # URL form -> the year it was seen
LANG_BY_PREFIX = {(lang.path_prefix.strip("/") or None): code for code, lang in LANGUAGES.items()}
LANG_BY_QUERY = {"zh-cn": "zh-CN", "zh-hk": "zh-HK", "en-us": "en", "en": "en"}
# moomoo is Futu's international brand: its news pages are English unless a prefix says otherwise.
DEFAULT_LANG_BY_HOST = {"www.moomoo.com/news": "en", "news.moomoo.com": "en"}

TITLE = selectors(
    "#newsDetail h1.title", "h1.title", "h1", "meta[property='og:title']@content", "title"
)
PUBLISHED_ELSEWHERE = selectors(".futu-news-time-stamp")
# Futu's article layouts, newest first (crawler/parsers/layouts.py): the record's `parser`
# names the one that read the page. The 2023 and current pages share `#newsDetail`; the
# current ones mark their body `.origin_content`. Dates: as public scrapers saw them.
LAYOUTS = (
    Layout(
        name="origin-content-2022",
        served=(date(2022, 1, 1), None),
        markers=("origin_content",),
        body=selectors(".origin_content"),
        title=TITLE,
        media=(),
        pubtime=PUBLISHED_ELSEWHERE,
        summary=(),
    ),
    Layout(
        name="news-detail-2023",
        served=(date(2023, 1, 1), date(2023, 12, 31)),
        markers=('id="newsDetail"',),
        body=selectors("#newsDetail #content"),
        title=TITLE,
        media=(),
        pubtime=PUBLISHED_ELSEWHERE,
        summary=(),
    ),
    # 2020: body `div.newsDetailBox div.main div.inner`, time `div.timeBar` (YYYY/MM/DD HH:mm).
    Layout(
        name="news-detail-box-2020",
        served=(date(2020, 1, 1), date(2022, 12, 31)),
        markers=("newsDetailBox",),
        body=selectors(".newsDetailBox .main .inner"),
        title=selectors(".newsDetailBox h1", "h1", "meta[property='og:title']@content", "title"),
        media=(),
        pubtime=selectors(".newsDetailBox .timeBar", ".timeBar"),
        summary=(),
    ),
)
UNKNOWN_LAYOUT = merged(LAYOUTS, title=TITLE)
CONTAINERS = UNKNOWN_LAYOUT.body  # every layout's body: what a rendered page waits for
# What Futu shows in place of an article that was deleted (simplified, traditional, English):
# the page keeps the site chrome and a "back to home" link, and no article container.
REMOVED_NOTICES = (
    "该资讯不存在或已被删除",
    "該資訊不存在或已被刪除",
    "does not exist or has been deleted",
)
NOISE = Noise(
    ".futu-news-time-stamp",
    "#relatedStockWeb",
    ".news__from-topic",
    ".news__from-topic__title",
    ".comment-box",
    ".comment-list",
    ".share-box",
    ".share-bar",
    ".related-news",
    ".download-app",
    ".translate-tip",
    ".risk-disclaimer",
)
ORIGINAL_TITLE = selectors(".origin-title")  # one walk: it is on few pages
INFO_BAR = selectors(".info-bar")
OUTLET = selectors("a.source", ".source", "a")  # inside the info bar
PUBLISHED = selectors(
    ".publicTime",
)  # inside the info bar
TITLE_SUFFIX = re.compile(
    r"\s*[-|_–]\s*(?:富途牛牛|富途资讯|富途資訊|Futubull|Futu News|moomoo|Moomoo)\s*$"
)

TRANSLATION_NOTICE = "The translation is provided by third-party software."

BOILERPLATE = Boilerplate(
    lines=compile_all(
        [
            r"The translation is provided by third-party software\.?",
            r"Write a comment|写评论|寫評論|发表评论|發表評論",
            r"(?:\d+\s*)?comments?|评论\s*\(?\d*\)?|評論\s*\(?\d*\)?",
            r"Share|分享|Share to|分享到|Copy link|复制链接|複製鏈接",
            r"Related News|Related Stocks|相关资讯|相關資訊|相关股票|相關股票|Read more|查看更多",
            r"Download (?:the )?(?:Futubull|moomoo) App.*|下载富途牛牛.*|下載富途牛牛.*",
            r"share_log",
        ]
    ),
    sentences=sentences(
        [
            ("third-party software", r"\s*The translation is provided by third-party software\."),
            (
                "The above content is for informational",
                r"(?:Risk Disclaimer:?\s*)?The above content is for informational or educational "
                r"purposes only and does not constitute any investment advice related to "
                r"(?:Futu|Moomoo)\. Although we strive to ensure the truthfulness, accuracy, and "
                r"originality of all such content, we cannot guarantee it\.",
            ),
            # The zh-CN / zh-HK disclaimers below are the wording Futu's Chinese pages show; the
            # research found no public copy of them (unverified), so they are also removed by
            # selector where the page puts them in a widget.
            (
                "以上内容仅用作资讯或教育之目的",
                r"(?:风险及免责提示[:：]?\s*)?以上内容仅用作资讯或教育之目的，不构成与富途相关的"
                r"任何投资建议。富途竭力但无法保证上述全部内容的真实性、准确性和原创性。",
            ),
            (
                "以上內容僅用作資訊或教育之目的",
                r"(?:風險及免責提示[:：]?\s*)?以上內容僅用作資訊或教育之目的，不構成與富途相關的"
                r"任何投資建議。富途竭力但無法保證上述全部內容的真實性、準確性和原創性。",
            ),
            ("Read more", r"\s*Read more$"),
        ]
    ),
)
# Attribution lines sit at the top of the body; only short blocks qualify, so a paragraph that
# merely starts with "Source:" is never swallowed.
ATTRIBUTION = compile_all(
    [
        r"Source[:：]\s*(?P<source>.{1,80}?)(?:\s+Authors?[:：]\s*(?P<author>.{1,60}))?",
        r"Authors?[:：]\s*(?P<author>.{1,60}?)(?:\s+Source[:：]\s*(?P<source>.{1,80}))?",
        r"(?:来源|來源)[:：]\s*(?P<source>.{1,60}?)(?:\s*作者[:：]\s*(?P<author>.{1,40}))?",
        r"作者[:：]\s*(?P<author>.{1,40}?)(?:\s*(?:来源|來源)[:：]\s*(?P<source>.{1,60}))?",
    ]
)
EDITOR = compile_all(
    [
        r"(?:edit|editor|编辑|編輯)\s*/\s*(?P<editor>\S{1,40})",
        r"(?:责任编辑|責任編輯|Editor)[:：]\s*(?P<editor>\S{1,40})",
    ]
)
TICKER = re.compile(r"\$[^$\n]{1,80}?\((?P<code>\.?[A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Z]{2,4})\)\$")
# A challenge shell has scripts and almost no readable text; a real error page has text.
CHALLENGE_MAX_TEXT = 200
# Less article text than any real page of its kind carries: the container is there but the
# text moved elsewhere (a layout change), not a short article. A real flash item can be 40
# characters of Chinese; posts run to hundreds.
MIN_TEXT_CHARS = {"flash": 15, "post": 60}
SCRIPTS = union("script", "style", "noscript")


class FutuParser:
    """Parser for the current (2023+) Futu article and flash layout."""

    site = "futu"
    name = "futu.article"
    version = "1.2.0"
    # A rendered page is ready once the article container exists (see crawler/rendering.py).
    ready_selector = ", ".join(selector.css for selector in CONTAINERS)
    # What the generic extractor (crawler/parsers/generic.py) removes from its text too.
    boilerplate = BOILERPLATE
    title_suffix = TITLE_SUFFIX

    def identify(self, url: str) -> PageRef | None:
        """Article identity: numeric id + language; slug and tracking query are noise."""
        match = URL_PATTERN.match(url)
        if not match:
            legacy = LEGACY_URL_PATTERN.match(url)
            if not legacy:
                return None
            kind, num = legacy["kind"].lower(), legacy["num"]
            return PageRef(
                site=self.site,
                id=f"{kind}-{num}-zh-CN",
                url=f"https://news.futunn.com/{kind}/{num}",
                language="zh-CN",
                kind=kind,
            )
        prefix = (match["prefix"] or "").lower() or None
        host = match["host"].lower()
        language = LANG_BY_PREFIX[prefix]
        if prefix is None:
            language = DEFAULT_LANG_BY_HOST.get(host, language)
        query_lang = parse_qs(urlsplit(url).query).get("lang", [""])[0].lower()
        language = LANG_BY_QUERY.get(query_lang, language)
        kind, num = match["kind"].lower(), match["num"]
        canonical = f"https://news.futunn.com{LANGUAGES[language].path_prefix}/{kind}/{num}"
        ident = f"{num}-{language}" if kind == "post" else f"flash-{num}-{language}"
        return PageRef(site=self.site, id=ident, url=canonical, language=language, kind=kind)

    def parse(self, url: str, body: bytes, headers: Mapping[str, str]) -> Article:
        """Clean article from a Futu post or flash page."""
        ref = self.identify(url)
        if ref is None:
            raise ParseError(url, "url", "not a Futu post or flash URL")
        if ref.kind in LEGACY_KINDS:
            raise LayoutChanged(
                url,
                f"no layout of the {LEGACY_KINDS[ref.kind]} /{ref.kind}/ pages yet",
                layout=f"{self.name}/{ref.kind}-{LEGACY_KINDS[ref.kind]}",
            )
        _, page = decode_page(body, headers)
        if is_mojibake(page):
            raise ParseError(url, "encoding", "no candidate charset decodes the page cleanly")
        root = parse_document(page)
        layout = by_marker(LAYOUTS, page, UNKNOWN_LAYOUT)
        container = first(root, layout.body)
        if container is None:
            if _looks_like_challenge(root):
                raise BlockedByChallenge(url, "Futu answered with a JavaScript challenge page")
            if any(notice in page for notice in REMOVED_NOTICES):
                raise Removed(url, "Futu says the article does not exist or was deleted")
            raise LayoutChanged(
                url,
                "no article container (.origin_content): layout changed?",
                layout=f"{self.name}/{layout.name}",
            )

        # The info bar holds both the outlet and the time: found once, searched twice.
        info = first(root, INFO_BAR)
        title = select_text(root, layout.title)
        if not title:
            raise ParseError(url, "title")
        title = TITLE_SUFFIX.sub("", title)
        shown_time = (select_text(info, PUBLISHED) if info is not None else None) or select_text(
            root, layout.pubtime
        )
        if not shown_time:
            raise ParseError(url, "published", "no publication time on the page")
        published = parse_local_time(shown_time, headers)
        if published is None:
            raise ParseError(url, "published", f"unrecognised time {shown_time!r}")

        blocks = BOILERPLATE.clean(text_blocks(container, NOISE))
        source = author = editor = None
        found = first_match(ATTRIBUTION, blocks, limit=3)
        if found:
            index, match = found
            source, author = match.groupdict().get("source"), match.groupdict().get("author")
            del blocks[index]
        found = first_match(EDITOR, blocks[-3:])
        if found:
            index, match = found
            editor = match["editor"]
            del blocks[len(blocks) - min(3, len(blocks)) + index]
        shortest = MIN_TEXT_CHARS[ref.kind]
        if sum(len(block) for block in blocks) < shortest:
            raise LayoutChanged(
                url,
                f"under {shortest} characters of text in the container: layout changed?",
                layout=f"{self.name}/{layout.name}",
            )

        # A whole-tree walk, for a class only translated pages carry: asked only of them.
        original_title = select_text(root, ORIGINAL_TITLE) if "origin-title" in page else None
        tickers = tuple(dict.fromkeys(m["code"] for b in blocks for m in TICKER.finditer(b)))
        return Article(
            site=self.site,
            id=ref.id,
            url=ref.url,
            title=title,
            original_title=original_title if original_title != title else None,
            paragraphs=tuple(blocks),
            published=published,
            language=ref.language,
            machine_translated=TRANSLATION_NOTICE.encode() in body,
            outlet=select_text(info, OUTLET) if info is not None else None,
            source=_clean(source),
            author=_clean(author),
            editor=editor,
            tickers=tickers,
            parser=f"{self.name}/{layout.name}",
            parser_version=self.version,
            extra={"kind": ref.kind},
        )


def _looks_like_challenge(root: _Element) -> bool:
    has_script = bool(SCRIPTS[0](root))
    remove(root, SCRIPTS)
    return has_script and len(" ".join(root.text_content().split())) < CHALLENGE_MAX_TEXT


def _clean(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None
