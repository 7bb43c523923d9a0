"""The qq.com news pages' layouts as data: every era of its article pages, the dates each
was served, the markers that recognise it, the selectors of each field and the site chrome
its article container holds (crawler/parsers/layouts.py). The site parser beside this module
picks one per page; a new era is a new entry here, with its own fixtures."""

from __future__ import annotations

from datetime import date

from crawler.parsers.base import selectors
from crawler.parsers.blocks import Noise
from crawler.parsers.layouts import Layout, merged
from crawler.parsers.text import Boilerplate, compile_all

BODY_NOISE = Noise(
    "#Status",
    ".qqnews-ad",
    ".article-ad",
    "#LeftTool",
    "script",
    "style",
    "iframe",
    # 2019-2024 omn pages: the standfirst (导语) belongs in `summary`, not in the text.
    ".introduction",
    # 2009-2018 pages: the "转播到腾讯微博" share overlay on images, the related-video
    # widget (精彩视频推荐 / 自动播放 / 正在加载...), the hidden selection-share tip.
    ".mbArticleSharePic",
    ".rv-root-v2",
    "#tipsWBzf",
    # A text article that opens with a video: the player and its caption are not text.
    ".qqnews-video",
    ".txp_player",
)
# Pictures that are not the article's: the related-video widget's (the share overlay wraps
# the article's own picture, so it is text noise only).
IMAGE_NOISE = Noise(".rv-root-v2", ".introduction")


EDITOR = selectors(".qq_editor")
# Chrome of the 2008-2018 templates inside the article container, as whole lines: the font
# size switch, comment/print/close links, "related" headings, the way back to the home page.
LEGACY_CHROME = Boilerplate(
    lines=compile_all(
        [
            r"[【\[]?\s*字号\s*[:：]?\s*(?:大\s*中\s*小|T\s*\|?\s*T)?\s*[】\]]?",
            r"[【\[]?\s*(?:我要评论|发表评论|打印|关闭|推荐给好友|转发|复制网址|收藏本文)\s*[】\]]?"
            r"(?:\s*[【\[]?\s*(?:我要评论|发表评论|打印|关闭|推荐给好友|转发|复制网址|收藏本文)"
            r"\s*[】\]]?)*",
            r"(?:相关链接|相关阅读|相关新闻|延伸阅读|热点推荐)\s*[:：]?",
            r"(?:返回)?腾讯(?:网)?首页\s*(?:>>|»)?",
            r"(?:更多|进入).{0,12}(?:论坛|专题|频道)\s*(?:>>|»)",
            r"(?:搜索|站内搜索)\s*[:：]?",
        ]
    )
)
# Elements of those templates that hold no article text (share bars, related tables, the
# font switch, search boxes): named per template, with navigation lines found by their links.
LEGACY_2008_NOISE = BODY_NOISE.plus(
    "#ArtPLink",
    "#Reading",
    "#ArtTool",
    "#ArtFunc",
    "#ArtShare",
    "#ArtComment",
    ".fontSize",
    "#backqqcom",
    "#Search",
    ".search",
    nav_links=True,
)
LEGACY_2009_NOISE = BODY_NOISE.plus(
    "#backqqcom",
    ".about-read",
    ".qq_articleFt",
    ".a_Info",
    ".fontSize",
    ".share",
    "#Search",
    ".search",
    ".crumbs",
    nav_links=True,
)
LAYOUTS = (
    Layout(
        name="legacy-2009",
        served=(date(2009, 1, 1), date(2018, 12, 31)),
        markers=('id="Cnt-Main-Article-QQ"',),
        body=selectors("#Cnt-Main-Article-QQ"),
        title=selectors(".hd h1", "h1", "title"),
        media=selectors(".a_source a", ".a_source", ".infoCol .where"),
        pubtime=selectors("span.pubTime", ".a_time"),
        summary=selectors(
            "meta[name='Description']@content",  # these pages capitalise it
            "meta[name='description']@content",
        ),
        editor=EDITOR,
        legacy_url=True,
        noise=LEGACY_2009_NOISE,
        chrome=LEGACY_CHROME,
    ),
    # The 2008-2012 template: the title, the source-and-time bar and the text in three
    # sibling divs, GB2312 bytes, and in the text a related-reading table and link list.
    Layout(
        name="legacy-2008",
        served=(date(2008, 1, 1), date(2012, 12, 31)),
        markers=('id="ArticleCnt"', 'id="ArticleTit"', 'id="ArtCnt"'),
        body=selectors("#ArticleCnt", "#ArtCnt"),
        title=selectors("#ArticleTit", "h1", "title"),
        media=selectors("#ArtFrom a", "#ArtFrom .where", ".infoCol .where"),
        pubtime=selectors("#ArtFrom .pubTime", "span.pubTime", "#ArtFrom"),
        summary=selectors("meta[name='Description']@content", "meta[name='description']@content"),
        editor=EDITOR,
        legacy_url=True,
        noise=LEGACY_2008_NOISE,
        chrome=LEGACY_CHROME,
    ),
    Layout(
        name="rain-2024",
        served=(date(2024, 4, 24), None),
        markers=("rich_media_content", 'class="media-meta"'),
        body=selectors("#article-content .rich_media_content", ".content-article"),
        title=selectors("h1#article-title", "#article-title", "h1", "title"),
        media=selectors(".media-info .media-name", "meta[name='source']@content"),
        pubtime=selectors(
            ".media-meta span",
            "meta[name='pubdate']@content",
            "meta[property='article:published_time']@content",
        ),
        summary=selectors("meta[name='description']@content"),
        editor=EDITOR,
        noise=BODY_NOISE,
    ),
    Layout(
        name="omn-2019",
        served=(date(2019, 1, 1), date(2024, 4, 24)),
        markers=('class="content-article"',),
        body=selectors(".content-article"),
        title=selectors(".LEFT h1", "h1", "title"),
        media=selectors(".a_source a", ".a_source", "meta[name='source']@content"),
        pubtime=selectors(".a_time", "meta[name='pubdate']@content"),
        summary=selectors(".content-article .introduction", "meta[name='description']@content"),
        editor=EDITOR,
        noise=BODY_NOISE,
    ),
    # The mobile renderer of view.inews.qq.com/a/<id> (seen 2023): the article lives in
    # `window.initData` (read as window.DATA is); the DOM is the app's shell.
    Layout(
        name="view-inews-2023",
        served=(date(2023, 1, 1), None),
        markers=("window.initData",),
        body=selectors(".content-box", "#article-content"),
        title=selectors(".title", "h1", "title"),
        media=selectors(".media-name", ".author-name"),
        pubtime=selectors(".time", "meta[name='pubdate']@content"),
        summary=selectors("meta[name='description']@content"),
        editor=EDITOR,
        noise=BODY_NOISE.plus(".open-app", ".download-bar", ".related", ".comment"),
    ),
)
LEGACY_LAYOUTS = tuple(layout for layout in LAYOUTS if layout.legacy_url)
# No marker at all (a page between eras, or one we have not met): every layout's selectors.
UNKNOWN_LAYOUT = merged(
    LAYOUTS,
    title=selectors(
        "h1#article-title", "#article-title", ".LEFT h1", ".hd h1", "#ArticleTit", "h1", "title"
    ),
)
