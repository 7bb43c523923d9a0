"""URL identity, window.DATA decoding, charset and time helpers (pure functions)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crawler.parsers import UnsupportedURL, identify
from crawler.parsers.dates import BEIJING, parse_local_time
from crawler.parsers.tencent import find_window_data
from crawler.parsers.text import decode_page


@pytest.mark.parametrize(
    ("url", "site", "ident", "canonical"),
    [
        (
            "https://news.futunn.com/post/62202518/alibaba-s-new-ai?src=3",
            "futu",
            "62202518-zh-CN",
            "https://news.futunn.com/post/62202518",
        ),
        (
            "https://news.futunn.com/hk/post/76365874/consumer?lang=zh-hk",
            "futu",
            "76365874-zh-HK",
            "https://news.futunn.com/hk/post/76365874",
        ),
        (
            "https://news.futunn.com/en/post/1000448163/challenging",
            "futu",
            "1000448163-en",
            "https://news.futunn.com/en/post/1000448163",
        ),
        (
            "https://news.futunn.com/post/9323070?src=44",
            "futu",
            "9323070-zh-CN",
            "https://news.futunn.com/post/9323070",
        ),
        (
            "https://news.futunn.com/post/9323070?lang=en-us",
            "futu",
            "9323070-en",
            "https://news.futunn.com/en/post/9323070",
        ),
        (
            "https://www.moomoo.com/news/post/71576349/x",
            "futu",
            "71576349-en",
            "https://news.futunn.com/en/post/71576349",
        ),
        (
            "https://news.futunn.com/flash/16697438?src=48",
            "futu",
            "flash-16697438-zh-CN",
            "https://news.futunn.com/flash/16697438",
        ),
        (
            "https://news.moomoo.com/flash/18475054",
            "futu",
            "flash-18475054-en",
            "https://news.futunn.com/en/flash/18475054",
        ),
        (
            "https://news.qq.com/rain/a/20251016A07W8J00",
            "tencent",
            "20251016A07W8J00",
            "https://news.qq.com/rain/a/20251016A07W8J00",
        ),
        (
            "https://new.qq.com/rain/a/20240812A02ZJ100?refer=cp_1009#detail",
            "tencent",
            "20240812A02ZJ100",
            "https://news.qq.com/rain/a/20240812A02ZJ100",
        ),
        (
            "https://view.inews.qq.com/a/20230426A08Y3T00?from=share",
            "tencent",
            "20230426A08Y3T00",
            "https://news.qq.com/rain/a/20230426A08Y3T00",
        ),
        (
            "https://new.qq.com/omn/20191119/20191119A09Y0G00.html",
            "tencent",
            "20191119A09Y0G00",
            "https://news.qq.com/rain/a/20191119A09Y0G00",
        ),
        (
            "https://xw.qq.com/cmsid/20191119A09Y0G00",
            "tencent",
            "20191119A09Y0G00",
            "https://news.qq.com/rain/a/20191119A09Y0G00",
        ),
    ],
)
def test_every_url_variant_maps_to_one_identity(
    url: str, site: str, ident: str, canonical: str
) -> None:
    ref = identify(url)
    assert (ref.site, ref.id, ref.url) == (site, ident, canonical)


@pytest.mark.parametrize(
    "url",
    [
        "https://news.futunn.com/main/live",
        "https://news.futunn.com/video?news_id=1&nn_news_type=video",
        "https://mp.weixin.qq.com/s/abc",
        "https://news.qq.com/ch/tech/",
    ],
)
def test_non_article_urls_are_unsupported(url: str) -> None:
    with pytest.raises(UnsupportedURL, match="no site parser"):
        identify(url)


def test_window_data_skips_a_broken_assignment_and_reads_multiline_json() -> None:
    page = (
        "<script>window.DATA = {broken;</script>\n"
        '<script>window.DATA = {\n  "title": "a };</script> b",\n  "n": 1\n}\n</script>'
    )
    assert find_window_data(page) == {"title": "a };</script> b", "n": 1}


def test_window_data_absent_is_empty() -> None:
    assert find_window_data("<html><script>var x = 1;</script></html>") == {}


def test_gb2312_declared_page_with_gbk_characters_decodes_without_loss() -> None:
    body = '<meta charset="gb2312"><p>朱镕基 喆 堃</p>'.encode("gbk")
    _, text = decode_page(body, {"Content-Type": "text/html"})
    assert "朱镕基 喆 堃" in text and "\ufffd" not in text


def test_header_charset_wins_over_meta() -> None:
    body = '<meta charset="utf-8"><p>新闻</p>'.encode("gbk")
    _, text = decode_page(body, {"content-type": "text/html; charset=GBK"})
    assert "新闻" in text


@pytest.mark.parametrize(
    ("shown", "date_header", "expected"),
    [
        ("May 8 16:12", "Wed, 08 May 2024 09:31:07 GMT", datetime(2024, 5, 8, 16, 12)),
        ("Dec 30 23:50", "Thu, 02 Jan 2025 01:00:00 GMT", datetime(2024, 12, 30, 23, 50)),
        ("03/05 09:41", "Thu, 05 Mar 2026 02:10:00 GMT", datetime(2026, 3, 5, 9, 41)),
        ("12/07/2023 19:17", None, datetime(2023, 12, 7, 19, 17)),
        ("2025-10-16 20:22:15", None, datetime(2025, 10, 16, 20, 22, 15)),
    ],
)
def test_shown_times_are_beijing_time(
    shown: str, date_header: str | None, expected: datetime
) -> None:
    headers = {"Date": date_header} if date_header else {}
    parsed = parse_local_time(shown, headers)
    assert parsed == expected.replace(tzinfo=BEIJING)
    assert parsed.utcoffset() == timedelta(hours=8)


def test_yearless_time_without_a_date_header_is_unknown() -> None:
    assert parse_local_time("May 8 16:12", {}) is None
