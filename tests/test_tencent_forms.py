"""Every Tencent URL form to one article id, and the decoding rules of saved and served pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer, Route, mirror_path
from crawler.parsers import PARSERS, ParseError, parse
from crawler.parsers.dates import parse_local_time
from crawler.parsers.text import decode_page, is_mojibake
from tests.support.commands import newsarchive, scrapy
from tests.support.configs import mirror_config, records, summary_line

TENCENT = PARSERS["tencent"]

# (URL as found in the wild, its id, where it is fetched)
FORMS = [
    (
        "https://news.qq.com/rain/a/20251016A07W8J00",
        "20251016A07W8J00",
        "https://news.qq.com/rain/a/20251016A07W8J00",
    ),
    (
        "https://new.qq.com/rain/a/20240920A07Y5Y00?refer=cp_1009#detail",
        "20240920A07Y5Y00",
        "https://news.qq.com/rain/a/20240920A07Y5Y00",
    ),
    (
        "https://new.qq.com/omn/20190907/20190907A081B000.html",
        "20190907A081B000",
        "https://news.qq.com/rain/a/20190907A081B000",
    ),
    (
        "https://new.qq.com/omn/20181102/20181102A0S7X3.html",
        "20181102A0S7X3",
        "https://news.qq.com/rain/a/20181102A0S7X3",
    ),
    (
        "https://new.qq.com/omn/TWF20190/TWF2019071500123400.html",
        "TWF2019071500123400",
        "https://new.qq.com/omn/TWF20190/TWF2019071500123400.html",
    ),
    (
        "https://new.qq.com/cmsn/20161014/20161014006270",
        "20161014006270",
        "https://new.qq.com/cmsn/20161014/20161014006270.html",
    ),
    (
        "https://new.qq.com/cmsn/NEW20181/NEW2018110200123400.html",
        "NEW2018110200123400",
        "https://new.qq.com/cmsn/NEW20181/NEW2018110200123400.html",
    ),
    (
        "https://view.inews.qq.com/a/20261001V0BR0200?source=feed",
        "20261001V0BR0200",
        "https://news.qq.com/rain/a/20261001V0BR0200",
    ),
    (
        "https://xw.qq.com/cmsid/20190907A081B000",
        "20190907A081B000",
        "https://news.qq.com/rain/a/20190907A081B000",
    ),
    (
        "https://xw.qq.com/c/tech/20161014006270",
        "tech-20161014006270",
        "https://tech.qq.com/a/20161014/006270.htm",
    ),
    (
        "https://xw.qq.com/a/finance/20161014006270",
        "finance-20161014006270",
        "https://finance.qq.com/a/20161014/006270.htm",
    ),
    (
        "http://tech.qq.com/a/20161014/006270.htm",
        "tech-20161014006270",
        "https://tech.qq.com/a/20161014/006270.htm",
    ),
    (
        "http://finance.qq.com/a/20161014/006270.htm",
        "finance-20161014006270",
        "https://finance.qq.com/a/20161014/006270.htm",
    ),
]


@pytest.mark.parametrize(("url", "article_id", "fetched"), FORMS)
def test_every_url_form_maps_to_one_id(url: str, article_id: str, fetched: str) -> None:
    ref = TENCENT.identify(url)
    assert ref is not None and (ref.id, ref.url) == (article_id, fetched)
    again = TENCENT.identify(ref.url)  # the fetch URL is a form of the same article
    assert again is not None and again.id == article_id


def test_legacy_pages_of_two_channels_on_one_day_are_two_articles() -> None:
    tech = TENCENT.identify("http://tech.qq.com/a/20161014/006270.htm")
    finance = TENCENT.identify("http://finance.qq.com/a/20161014/006270.htm")
    assert tech is not None and finance is not None and tech.id != finance.id


@pytest.mark.parametrize(
    "url", ["https://news.qq.com/ch/tech/", "https://new.qq.com/omn/author/abc", "https://qq.com/"]
)
def test_no_known_form_is_unsupported(url: str) -> None:
    assert TENCENT.identify(url) is None


GB_PAGE = '<html><head><meta charset="gb2312"><title>外汇储备</title></head><body>镕</body></html>'


def test_a_served_header_charset_wins() -> None:
    body = GB_PAGE.encode("gb18030")
    encoding, text = decode_page(body, {"Content-Type": "text/html; charset=GBK"})
    assert encoding == "gb18030" and "外汇储备" in text and "镕" in text


def test_a_saved_utf8_page_that_still_declares_gb2312_is_read_as_utf8() -> None:
    encoding, text = decode_page(GB_PAGE.encode("utf-8"), {})
    assert encoding == "utf-8" and "外汇储备" in text


def test_a_saved_gb_page_that_declares_gb2312_is_read_as_gb18030() -> None:
    encoding, text = decode_page(GB_PAGE.encode("gb18030"), {})
    assert encoding == "gb18030" and "镕" in text  # outside GB2312, inside GB18030


def test_with_neither_header_nor_declaration_utf8_then_gb18030() -> None:
    plain = "<html><body>芯片出口</body></html>"
    assert decode_page(plain.encode("utf-8"), {}) == ("utf-8", plain)
    encoding, text = decode_page(plain.encode("gb18030"), {})
    assert encoding == "gb18030" and "芯片出口" in text


def test_a_page_no_charset_decodes_is_rejected_not_archived_as_mojibake() -> None:
    noise = bytes(range(0x80, 0x100)) * 40
    body = b"<html><body><p>" + noise + b"</p></body></html>"
    assert is_mojibake(decode_page(body, {"Content-Type": "text/html; charset=utf-8"})[1])
    with pytest.raises(ParseError) as rejected:
        parse(
            "https://news.qq.com/rain/a/20251016A07W8J00",
            body,
            {"Content-Type": "text/html; charset=utf-8"},
        )
    assert rejected.value.field == "encoding"


@pytest.mark.parametrize(
    ("shown", "iso"),
    [
        ("2016年10月14日07:17", "2016-10-14T07:17:00+08:00"),
        ("2016年10月14日 07:17", "2016-10-14T07:17:00+08:00"),
        ("2019-09-07 19:02:26", "2019-09-07T19:02:26+08:00"),
        ("2016年10月14日07:17:05", "2016-10-14T07:17:05+08:00"),
    ],
)
def test_every_printed_time_form_is_beijing_time(shown: str, iso: str) -> None:
    parsed = parse_local_time(shown, {})
    assert parsed is not None and parsed.isoformat() == iso


VIDEO_FIRST = load_fixture(FIXTURES_DIR / "tencent" / "video-first-article")


def test_a_text_article_that_opens_with_a_video_is_an_article_from_the_dom_too() -> None:
    """window.DATA without its body (the DOM fallback): the player is not text."""
    page = VIDEO_FIRST.body.decode("utf-8")
    start = page.index('"originContent"')
    stripped = (
        page[:start] + '"no_content": {}' + page[page.index("}", page.index("}", start) + 1) + 1 :]
    )
    article = parse(VIDEO_FIRST.url, stripped.encode(), VIDEO_FIRST.headers)
    assert article.paragraphs[0].startswith("凌晨两点")
    assert not [p for p in article.paragraphs if "播放" in p or "01:12" in p or "夜班作业现场" in p]


INTERSTITIAL = (
    b'<html><head><meta charset="utf-8"><title>\xe8\x85\xbe\xe8\xae\xaf\xe7\xbd\x91</title>'
    b'<script>var target = "/rain/a/20161014A0ABCD00";'
    b"location.replace('/rain/a/20161014A0ABCD00');</script></head><body></body></html>"
)
MOVED_FROM = "https://new.qq.com/cmsn/20161014/20161014006270"


def test_the_redirect_interstitial_is_followed_to_the_article(tmp_path: Path) -> None:
    article = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data")
    routes = {
        mirror_path("https://new.qq.com/cmsn/20161014/20161014006270.html"): Route(
            200, {"Content-Type": "text/html; charset=utf-8"}, INTERSTITIAL
        ),
        mirror_path("https://news.qq.com/rain/a/20161014A0ABCD00"): Route(
            200, article.headers, article.body
        ),
    }
    with MirrorServer(routes) as server:
        config = mirror_config(tmp_path / "c.toml", server, tmp_path / "archive")
        result = newsarchive("--config", str(config), "crawl", "--url", MOVED_FROM)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    tencent = summary_line(result.stdout, "tencent")
    # The redirect page and the article: two pages fetched for one requested URL.
    assert (tencent["requested"], tencent["fetched"], tencent["archived"]) == (1, 2, 1)
    assert tencent["parsed"] == 1 and tencent["parse_errors"] == 0
    (record,) = records(tmp_path, "tencent")
    assert json.loads(record.read_text())["id"] == "20161014006270"


def test_parse_of_a_saved_interstitial_says_where_the_article_is(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    saved.write_bytes(INTERSTITIAL)
    result = newsarchive("parse", str(saved), "--url", MOVED_FROM)
    assert result.returncode == 1
    assert "parse --url https://new.qq.com/rain/a/20161014A0ABCD00" in result.stderr


def test_a_mobile_twin_url_is_crawled_as_its_legacy_desktop_page(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    """`scrapy crawl tencent -a url=` with the xw.qq.com twin: fetched where the desktop page
    lives (on the mirror, under its own host), archived under the same id."""
    config = mirror_config(tmp_path / "c.toml", mirror, tmp_path / "archive")
    result = scrapy(
        "crawl",
        "tencent",
        "-a",
        "url=https://xw.qq.com/c/tech/20161103004512",
        "-s",
        f"NEWSARCHIVE_CONFIG={config}",
    )
    assert "'newsarchive/archive/archived': 1" in result.stderr, result.stderr[-3000:]
    assert "/tech.qq.com/a/20161103/004512.htm" in mirror.requests
    (record,) = records(tmp_path, "tencent")
    assert json.loads(record.read_text())["id"] == "tech-20161103004512"
