"""`newsarchive parse` and the standard Scrapy commands, run as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer
from tests.support.commands import newsarchive, scrapy


def test_scrapy_list_shows_both_spiders() -> None:
    result = scrapy("list")
    assert result.returncode == 0
    assert result.stdout.split() == ["futu", "tencent"]


def test_parse_fixture_file_prints_the_article_json() -> None:
    fixture = load_fixture(FIXTURES_DIR / "futu" / "zh-cn-post")
    result = newsarchive("parse", str(fixture.path / "page.html"))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == fixture.expected()["article"]


def test_parse_saved_page_with_url_and_header(tmp_path: Path) -> None:
    fixture = load_fixture(FIXTURES_DIR / "tencent" / "gb2312-2016")
    saved = tmp_path / "saved.htm"
    shutil.copy(fixture.path / "page.html", saved)
    result = newsarchive(
        "parse", str(saved), "--url", fixture.url, "--header", "Content-Type: text/html"
    )
    assert result.returncode == 0, result.stderr
    assert "镕、喆、堃" in json.loads(result.stdout)["text"]


def test_parse_without_url_or_meta_is_a_usage_error(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    saved.write_bytes(b"<html></html>")
    result = newsarchive("parse", str(saved))
    assert result.returncode == 2
    assert "needs --url" in result.stderr


def test_parse_rejected_page_exits_1_with_the_reason() -> None:
    fixture = load_fixture(FIXTURES_DIR / "tencent" / "paywalled")
    result = newsarchive("parse", str(fixture.path / "page.html"))
    assert result.returncode == 1
    *_, last = result.stderr.strip().splitlines()
    assert last.startswith("newsarchive: not_article: not a text article: paywalled")
    assert result.stdout == ""


def test_parse_url_fetches_through_the_configured_base(
    mirror_config: Path, mirror: MirrorServer
) -> None:
    fixture = load_fixture(FIXTURES_DIR / "tencent" / "multiline-broken-data")
    result = newsarchive("--config", str(mirror_config), "parse", "--url", fixture.url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == fixture.expected()["article"]
    assert "/news.qq.com/rain/a/20240920A07Y5Y00" in mirror.requests
