"""Tencent news (news.qq.com/rain/a/<id> and its URL variants).

Layout facts come from pages served by news.qq.com, new.qq.com and the older *.qq.com hosts.
The current pages carry the article in an inline `window.DATA = {...}` object
(`originContent.text` is the body HTML, with `<!--IMG_n-->` placeholders resolved through
`originAttribute`); that JSON is decoded with a real JSON decoder instead of souping the
page. The DOM is the fallback per field: `#article-content .rich_media_content` (2024-04-24
onward), `.content-article p.one-p` (2019 until the 2024-04-24 layout change),
`#Cnt-Main-Article-QQ` (the GB2312 pages of 2017 and before).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.etree import _Element

from crawler.items import Article
from crawler.parsers.base import (
    PageRef,
    first,
    parse_document,
    select_text,
)
from crawler.parsers.blocks import fragment_root, image_sources, text_blocks
from crawler.parsers.dates import find_local_time, parse_local_time
from crawler.parsers.errors import LayoutChanged, MovedTo, NotAnArticle, ParseError, Removed
from crawler.parsers.layouts import Layout, by_marker
from crawler.parsers.tencent_layouts import (
    IMAGE_NOISE,
    LAYOUTS,
    LEGACY_LAYOUTS,
    UNKNOWN_LAYOUT,
)
from crawler.parsers.text import (
    Boilerplate,
    compile_all,
    decode_page,
    first_match,
    is_mojibake,
    sentences,
    squash,
)

# Every URL form of a Tencent article, as data: the pattern, and how its groups make the id.
# Ids of today's pages (rain, omn, cmsn, view.inews, xw cmsid) are global; a 2009-2018 page is
# a date and a serial per channel, so its id carries the channel: tech.qq.com/a/20161014/
# 006270.htm is `tech-20161014006270`, a different article from finance's 006270 that day.
_ID = r"(?P<id>[0-9A-Za-z]{10,30})"
URL_PATTERNS = (
    re.compile(rf"^https?://(?:news|new)\.qq\.com/rain/a/{_ID}(?:[/?#]|$)"),
    re.compile(rf"^https?://view\.inews\.qq\.com/(?:a|k)/{_ID}(?:[/?#]|$)"),
    # omn/<YYYYMMDD>/<id>.html, omn/<id>.html, omn/<first 8 of the id>/<TWF... id>.html
    re.compile(
        rf"^https?://new\.qq\.com/(?P<omn>omn)/(?:[0-9A-Za-z]{{8}}/)?{_ID}(?:\.html)?(?:[?#]|$)"
    ),
    # cmsn/<YYYYMMDD>/<YYYYMMDD><NNNNNN>[.html], cmsn/NEW<...>/NEW<...>.html
    re.compile(
        rf"^https?://new\.qq\.com/(?P<cmsn>cmsn)/(?:[0-9A-Za-z]{{8,16}}/)?{_ID}(?:\.html)?"
        r"(?:[?#]|$)"
    ),
    re.compile(rf"^https?://xw\.qq\.com/(?:cmsid|a)/{_ID}(?:[/?#]|$)"),
    # The mobile twins of a legacy desktop page: xw.qq.com/{c,a}/<channel>/<YYYYMMDD><NNNNNN>
    re.compile(
        r"^https?://xw\.qq\.com/(?:c|a)/(?P<channel>[a-z]+)/(?P<date>\d{8})(?P<serial>\d{6})"
        r"(?:[/?#]|$)"
    ),
    # 2009-2018: <channel>.qq.com/a/<YYYYMMDD>/<NNNNNN>.htm, GB2312/GBK pages.
    re.compile(
        r"^https?://(?P<channel>[a-z]+)\.qq\.com/a/(?P<date>\d{8})/(?P<serial>\d{6})\.s?htm"
    ),
)
WINDOW_DATA = re.compile(r"window\.DATA\s*=\s*")
# The mobile renderer (view.inews.qq.com, 2023): `window.initData = {...}`, the article under
# `content`, its body HTML at `content.content.text` (or `content.text`).
INIT_DATA = re.compile(r"window\.initData\s*=\s*")
_JSON = json.JSONDecoder()
IMG_PLACEHOLDER = re.compile(r"<!--(IMG_\d+)-->")

# Tencent's `notfound.htm?uri=...` interstitial: a few hundred bytes whose script sends the
# browser to the article's /rain/a/<id> page.
INTERSTITIAL = re.compile(
    r"""location(?:\.href\s*=|\.replace\s*\(|\s*=)\s*["']([^"']*/rain/a/[0-9A-Za-z]{10,30})"""
)
INTERSTITIAL_MAX_BYTES = 8192


def choose_layout(ref: PageRef, page: str) -> Layout:
    """The layout of a page: the first layout whose marker the page's HTML holds, among the
    legacy templates for a legacy URL (<channel>.qq.com/a/<date>/<serial>.htm)."""
    if ref.id[:1].isalpha() and "-" in ref.id:  # <channel>-<date><serial>: a legacy URL
        return by_marker(LEGACY_LAYOUTS, page, UNKNOWN_LAYOUT)
    return by_marker(LAYOUTS, page, UNKNOWN_LAYOUT)


# 2009-2018 pages: `ARTICLE_INFO = window.ARTICLE_INFO || { ..., pubtime: '2016年10月14日07:17' }`
ARTICLE_INFO_PUBTIME = re.compile(r"ARTICLE_INFO\b.{0,2000}?\bpubtime\s*:\s*'([^']{6,40})'", re.S)
# "<title>_<channel>_腾讯网" (2008-2018: 新闻中心, 财经频道...), "<title>_腾讯新闻" (2019 on).
TITLE_SUFFIX = re.compile(r"\s*(?:_[^_|]{1,16})?\s*[_|-]\s*(?:腾讯(?:新闻|网)|QQ\.com)\s*$", re.I)

# articletype values (app and web feeds) that are not text articles, and whether discovery
# fetches them: a gallery is fetched and kept raw as not_article (it may carry captions worth
# keeping); a placeholder tip or a video has no page text at all, so it is only counted.
ARTICLE_TYPES: dict[str, tuple[str, bool]] = {
    "560": ("placeholder", False),
    "4": ("video", False),
    "118": ("short video", False),
    "56": ("live video", False),
    "1": ("gallery", True),
}
NON_ARTICLE_TYPES = {code: kind for code, (kind, _) in ARTICLE_TYPES.items()}
LISTED_NON_ARTICLES = {code: kind for code, (kind, fetched) in ARTICLE_TYPES.items() if not fetched}

BOILERPLATE = Boilerplate(
    lines=compile_all(
        [
            r"\**(?:版权声明[:：])?腾讯新闻出品内容，未经授权，不得复制和转载，否则将追究法律责任。?\**",
            r"(?:声明[:：])?本文(?:为|编译自)国外媒体报道，不代表腾讯科技立场。?",
            r"本文来自腾讯新闻客户端自媒体，不代表腾讯新闻的观点和立场。?",
            r"_?《[^》]{1,20}》是腾讯新闻出品的.{0,80}_?",
            r"本文为《[^》]{1,30}》原创(?:内容|文章).{0,80}未经授权不得转载.{0,40}",
            r"\**免责声明[:：]在任何情况下，本文中的信息或所表述的意见，均不构成对任何人的投资建议。?\**",
            r"(?:点击|扫码)?关注.{0,20}(?:公众号|腾讯新闻).{0,20}",
            r"精彩视频推荐",
            r"【[^】]{0,120}未经授权[，,]?不得转载[^】]{0,60}】",
        ]
    ),
    sentences=sentences(
        [
            (
                "免责声明",
                r"\s*免责声明[:：]在任何情况下，本文中的信息或所表述的意见，均不构成对任何人的投资建议。",
            ),
        ]
    ),
)
SOURCE_LINE = compile_all([r"\**(?:来源|文章来源|本文来源)[:：]\s*(?P<source>[^*]{1,40})\**"])
EDITOR_LINE = compile_all([r"\**(?:责任编辑|编辑)[:：]\s*(?P<editor>[^*]{1,30})\**"])
TRAILING_SOURCE = re.compile(r"\s*[（(](?:来源|来源于)[:：]\s*(?P<source>[^）)]{1,40})[）)]$")


class TencentParser:
    """Parser for Tencent news articles; one code path, per-field fallbacks across layouts."""

    site = "tencent"
    name = "tencent.article"
    version = "1.2.0"
    ready_selector = None  # no challenge pages: never rendered
    # What the generic extractor (crawler/parsers/generic.py) removes from its text too.
    boilerplate = BOILERPLATE
    title_suffix = TITLE_SUFFIX

    def identify(self, url: str) -> PageRef | None:
        """Every URL variant of an article maps to https://news.qq.com/rain/a/<ID>."""
        for pattern in URL_PATTERNS:
            match = pattern.match(url)
            if match:
                groups = match.groupdict()
                if groups.get("date"):
                    channel, day, serial = groups["channel"], groups["date"], groups["serial"]
                    ident = f"{channel}-{day}{serial}"
                    canonical = f"https://{channel}.qq.com/a/{day}/{serial}.htm"
                else:
                    ident = groups["id"]
                    canonical = _canonical(ident, groups)
                kind = "video" if re.fullmatch(r"\d{8}V\w+", ident) else "article"
                return PageRef(self.site, ident, canonical, "zh-CN", kind)
        return None

    def parse(self, url: str, body: bytes, headers: Mapping[str, str]) -> Article:
        """Clean article from a Tencent page: window.DATA first, the DOM per missing field."""
        ref = self.identify(url)
        if ref is None:
            raise ParseError(url, "url", "not a Tencent news article URL")
        _, page = decode_page(body, headers)
        if is_mojibake(page):
            raise ParseError(url, "encoding", "no candidate charset decodes the page cleanly")
        data = find_window_data(page) or mobile_data(page)
        if not data and len(body) < INTERSTITIAL_MAX_BYTES:
            moved = INTERSTITIAL.search(page)
            if moved:
                raise MovedTo(url, urljoin(f"https://{urlsplit(url).netloc}/", moved[1]))
        root = parse_document(page)
        _reject_non_articles(url, ref, data)

        layout = choose_layout(ref, page)
        title = _str(data.get("title")) or select_text(root, layout.title)
        if not title:
            raise ParseError(url, "title")
        title = TITLE_SUFFIX.sub("", title)

        found_body = _body(data, root, layout)
        if found_body is None:
            raise LayoutChanged(
                url,
                "no article text where any known layout keeps it",
                layout=f"{self.name}/{layout.name}",
            )
        blocks, images = found_body
        blocks = layout.chrome.clean(BOILERPLATE.clean(blocks))
        source = editor = None
        found = first_match(EDITOR_LINE, blocks)
        if found:
            editor = found[1]["editor"].strip()
            del blocks[found[0]]
        found = first_match(SOURCE_LINE, blocks)
        if found:
            source = found[1]["source"].strip()
            del blocks[found[0]]
        if blocks:
            trailing = TRAILING_SOURCE.search(blocks[-1])
            if trailing:
                source = source or trailing["source"].strip()
                blocks[-1] = blocks[-1][: trailing.start()]
        blocks = [b for b in blocks if b]
        if not blocks or (len(blocks) == 1 and squash(blocks[0]) == squash(title)):
            raise ParseError(url, "body", "no article text (headline-only page)")
        if editor is None:
            found = first_match(EDITOR_LINE, [select_text(root, layout.editor) or ""])
            editor = found[1]["editor"].strip() if found else None

        pubtime = (
            _str(data.get("pubtime")) or select_text(root, layout.pubtime) or _info_pubtime(page)
        )
        published = (
            (parse_local_time(pubtime, headers) or find_local_time(pubtime)) if pubtime else None
        )
        if published is None:
            raise ParseError(url, "published", f"no usable publication time ({pubtime!r})")

        return Article(
            site=self.site,
            id=ref.id,
            url=ref.url,
            title=title,
            paragraphs=tuple(blocks),
            published=published,
            language=ref.language,
            outlet=_str(data.get("media")) or select_text(root, layout.media),
            source=source,
            editor=editor,
            summary=_str(data.get("desc"))
            or _str(data.get("abstract"))
            or _str(data.get("introduction"))
            or select_text(root, layout.summary),
            tags=_tags(data.get("tags")),
            images=tuple(images),
            parser=f"{self.name}/{layout.name}",
            parser_version=self.version,
            extra=_extra(data),
        )


def _canonical(ident: str, groups: Mapping[str, str | None]) -> str:
    """Where an article with a global id is fetched: /rain/a/ for the dated ids Tencent
    serves there (omn and the mobile forms redirect to it); the omn and cmsn forms of the
    other id families (TWF..., NEW..., cmsn serials) stay as they are, folder = the first
    eight characters of the id."""
    if groups.get("cmsn"):
        return f"https://new.qq.com/cmsn/{ident[:8]}/{ident}.html"
    if groups.get("omn") and not ident[:8].isdigit():
        return f"https://new.qq.com/omn/{ident[:8]}/{ident}.html"
    return f"https://news.qq.com/rain/a/{ident}"


def find_window_data(page: str, assignment: re.Pattern[str] = WINDOW_DATA) -> dict[str, Any]:
    """The `window.DATA` object, decoded from its first `{` with a real JSON decoder.

    Tolerates pretty-printed multi-line JSON, a missing trailing `;`, and an earlier broken
    assignment (a failed decode moves on to the next `window.DATA =`). Empty dict when absent.
    """
    for match in assignment.finditer(page):
        start = page.find("{", match.end(), match.end() + 16)
        if start < 0:
            continue
        try:
            value, _ = _JSON.raw_decode(page, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return {}


def mobile_data(page: str) -> dict[str, Any]:
    """The mobile renderer's `window.initData`, in the shape of `window.DATA` (title, media,
    pubtime, originContent.text), so one code path reads both; empty dict when absent."""
    init = find_window_data(page, INIT_DATA)
    content = init.get("content")
    if not isinstance(content, dict):
        return {}
    inner = content.get("content")
    text = inner.get("text") if isinstance(inner, dict) else content.get("text")
    shaped = {
        "title": content.get("title") or init.get("title"),
        "media": content.get("media") or content.get("source") or content.get("chlname"),
        "pubtime": content.get("pubtime") or content.get("time"),
        "desc": content.get("abstract") or content.get("desc"),
        "articletype": content.get("articletype"),
        "originContent": {"text": text} if isinstance(text, str) else None,
    }
    return {key: value for key, value in shaped.items() if value not in (None, "")}


def _reject_non_articles(url: str, ref: PageRef, data: Mapping[str, Any]) -> None:
    if data.get("is_deleted") in (1, "1", True):
        raise Removed(url, "Tencent marks the article deleted (window.DATA is_deleted)")
    if data.get("article_is_pay") in (1, "1", True):
        raise NotAnArticle(url, "paywalled")
    kind = NON_ARTICLE_TYPES.get(str(data.get("articletype", data.get("article_type", ""))))
    if kind:
        raise NotAnArticle(url, kind)
    if ref.kind == "video" and not _origin_text(data):
        raise NotAnArticle(url, "video")


def _origin_text(data: Mapping[str, Any]) -> str:
    content = data.get("originContent")
    if not isinstance(content, dict):
        return ""
    return _str(content.get("text")) or ""


def _body(
    data: Mapping[str, Any], root: _Element, layout: Layout
) -> tuple[list[str], list[str]] | None:
    """Text blocks and images, from window.DATA when it has the body, else from the DOM;
    None when neither holds an article container."""
    origin = _origin_text(data)
    if origin:
        attributes = data.get("originAttribute") or {}
        images = []
        for name in IMG_PLACEHOLDER.findall(origin):
            image = attributes.get(name) or {}
            url = image.get("imgurl0") or image.get("imgurl") or image.get("url")
            if url:
                images.append("https:" + url if url.startswith("//") else url)
        fragment = fragment_root(IMG_PLACEHOLDER.sub("", origin))
        return text_blocks(fragment), images
    container = first(root, layout.body)
    if container is None:
        return None
    return text_blocks(container, layout.noise), image_sources(container, IMAGE_NOISE)


def _tags(raw: Any) -> tuple[str, ...]:
    """Tags arrive as 'a;b' strings (legacy), lists of strings, or lists of {tag_word: ...}."""
    if isinstance(raw, str):
        items = re.split(r"[;,，；]", raw)
    elif isinstance(raw, list):
        items = [
            (i.get("tag_word") or i.get("name") or "") if isinstance(i, dict) else str(i)
            for i in raw
        ]
    else:
        items = []
    return tuple(dict.fromkeys(t.strip() for t in items if t and t.strip()))


def _info_pubtime(page: str) -> str | None:
    found = ARTICLE_INFO_PUBTIME.search(page)
    return found[1].strip() if found else None


def _extra(data: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("catalog1", "catalog2", "media_id", "comment_id", "article_id", "cms_id")
    return {k: data[k] for k in keep if data.get(k) not in (None, "")}


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
