"""Opt-in rendering of Futu challenge pages in Debian's Chromium (scrapy-playwright).

The mirror gates the waf-challenge fixture like the real WAF: its script sets a `wafToken`
cookie and reloads, and only a request carrying that cookie gets the article. Plain HTTP
cannot get past it; Chromium can. CI installs the `chromium` package (.ci/run).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import FIXTURES_DIR, iter_fixtures, load_fixture
from crawler.mirror.server import MirrorServer, Route, mirror_path
from crawler.rendering import RENDER_MARGIN_SECONDS
from tests.support.commands import newsarchive, scrapy
from tests.support.configs import discovery_config, records, summary_line
from tests.support.warcs import record_at, warcio_check

WAF = load_fixture(FIXTURES_DIR / "futu" / "waf-challenge")
WAF_PATH = mirror_path("https://news.futunn.com/en/post/79436146")
# Read off after-challenge.html by hand.
TITLE = (
    "Claude Code launches Projects, splitting conversations into parallel threads with "
    "shared context"
)
FIRST_SENTENCE = "Anthropic has added a feature called Projects to its programming assistant"
BOILERPLATE = (
    "The translation is provided by third-party software.",
    "Write a comment",
    "Related News",
    "does not constitute any investment advice",
)


@pytest.fixture
def gated_mirror() -> Iterator[MirrorServer]:
    catalog = Catalog(iter_fixtures())
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as server:
        yield server


def crawl_challenge(
    tmp_path: Path, mirror: MirrorServer, *flags: str, **crawl: object
) -> subprocess.CompletedProcess[str]:
    config = discovery_config(tmp_path, mirror, crawl=crawl)
    return newsarchive("--config", str(config), "crawl", *flags, "--url", WAF.url)


def rejected_records(tmp_path: Path) -> list[dict]:
    root = tmp_path / "archive" / "rejected"
    return [json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))]


def test_plain_mode_reports_the_challenge_as_blocked(
    tmp_path: Path, gated_mirror: MirrorServer
) -> None:
    result = crawl_challenge(tmp_path, gated_mirror)
    assert result.returncode == 1, result.stderr[-3000:]
    futu = summary_line(result.stdout, "futu")
    assert futu["blocked"] == 1 and futu["archived"] == 0 and futu["rendered"] == 0
    assert records(tmp_path, "futu") == []
    (rejected,) = rejected_records(tmp_path)
    assert rejected["reason"] == "blocked"
    assert gated_mirror.requests.count(WAF_PATH) == 1


def test_render_mode_archives_the_article_behind_the_challenge(
    tmp_path: Path, gated_mirror: MirrorServer
) -> None:
    result = crawl_challenge(tmp_path, gated_mirror, "--render")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    futu = summary_line(result.stdout, "futu")
    assert futu["archived"] == 1 and futu["rendered"] == 1 and futu["blocked"] == 0
    (record_path,) = records(tmp_path, "futu")
    record = json.loads(record_path.read_text())
    assert record["id"] == "79436146-en" and record["title"] == TITLE
    assert record["rendered_by"] == "chromium" and record["machine_translated"] is True
    text = (tmp_path / "archive" / record["text_key"]).read_text()
    assert text.startswith(FIRST_SENTENCE)
    assert not [snippet for snippet in BOILERPLATE if snippet in text]
    archive = tmp_path / "archive"
    capture = record["warc"]
    rendered = record_at(archive, capture["key"], capture["offset"], capture["length"])
    assert rendered.rec_type == "conversion"  # the rendered DOM, not the challenge shell
    assert FIRST_SENTENCE in rendered.body.decode()
    # ... a conversion of the challenge response the plain fetch got, captured before it
    (challenge_place, *_) = capture["related"]
    challenge = record_at(archive, *challenge_place)
    assert challenge.rec_type == "response" and challenge.body == WAF.body
    refers_to = rendered.rec_headers.get_header("WARC-Refers-To")
    assert refers_to == challenge.rec_headers.get_header("WARC-Record-ID")
    check = warcio_check(archive / capture["key"])
    assert check.returncode == 0, check.stdout
    # plain fetch, then Chromium: the challenge page, then the reload its script asked for
    waf_requests = [h for p, h, _ in gated_mirror.request_log if p == WAF_PATH]
    assert len(waf_requests) == 3
    assert ["wafToken=" in h.get("cookie", "") for h in waf_requests] == [False, False, True]
    assert not rejected_records(tmp_path)


def test_rendering_is_used_only_for_challenge_pages(
    tmp_path: Path, gated_mirror: MirrorServer
) -> None:
    """A discovery crawl with rendering on (config): every other page is fetched once, plainly."""
    config = discovery_config(tmp_path, gated_mirror, crawl={"render_challenges": True})
    result = scrapy("crawl", "futu", "-s", f"NEWSARCHIVE_CONFIG={config}")
    assert "Spider closed (finished)" in result.stderr, result.stderr[-3000:]
    assert "'newsarchive/rendered': 1" in result.stderr
    assert "'playwright/request_count/navigation': 2" in result.stderr
    # One Playwright driver for the crawl (Scrapy makes a handler per scheme it is given).
    assert result.stderr.count("Starting download handler") == 1
    pages = Counter(p for p in gated_mirror.requests if "/post/" in p or "/flash/" in p)
    assert pages.pop(WAF_PATH) == 3
    assert pages and set(pages.values()) == {1}
    titles = {json.loads(p.read_text())["title"] for p in records(tmp_path, "futu")}
    assert TITLE in titles


def test_a_challenge_chromium_cannot_pass_is_kept_as_blocked(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    """The session mirror serves the challenge to everyone, cookie or not: rendering times out,
    and the page is reported and kept exactly as it was first served."""
    result = crawl_challenge(tmp_path, mirror, "--render", render_timeout=3)
    assert result.returncode == 1, result.stderr[-3000:]
    futu = summary_line(result.stdout, "futu")
    assert futu["blocked"] == 1 and futu["archived"] == 0
    assert "rendering failed" in result.stderr
    (rejected,) = rejected_records(tmp_path)
    assert rejected["reason"] == "blocked" and "rendering failed" in rejected["detail"]
    capture = rejected["warc"]  # the challenge as first served
    page = record_at(tmp_path / "archive", capture["key"], capture["offset"], capture["length"])
    assert page.rec_type == "response" and page.body == WAF.body


def test_a_render_that_never_answers_is_cut_at_its_deadline(tmp_path: Path) -> None:
    """Plain HTTP gets the challenge; Chromium's request then gets no answer for a minute.
    The rendered fetch is abandoned at render_timeout plus the margin, the page is kept as
    blocked, and the crawl ends (its lock released) instead of hanging."""
    calls: list[int] = []

    def challenge_then_silence(*_: object) -> Route:
        calls.append(1)
        if len(calls) > 1:
            time.sleep(60)
        return Route(WAF.status, WAF.headers, WAF.body)

    with MirrorServer({}, handlers={WAF_PATH: challenge_then_silence}) as server:
        started = time.monotonic()
        result = crawl_challenge(tmp_path, server, "--render", render_timeout=2)
        took = time.monotonic() - started
    assert result.returncode == 1, result.stderr[-3000:]
    futu = summary_line(result.stdout, "futu")
    assert futu["blocked"] == 1 and futu["fetched"] == 1
    assert took < 2 + RENDER_MARGIN_SECONDS + 20, took
    (rejected,) = rejected_records(tmp_path)
    assert "rendering failed" in rejected["detail"]


def test_rendering_without_a_browser_is_a_configuration_error(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    before = len(mirror.requests)
    result = crawl_challenge(tmp_path, mirror, "--render", chromium_path="/nonexistent/chromium")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newsarchive: setting 'crawl.chromium_path': no browser at /nonexistent/chromium "
        "(install Debian's chromium package, or point the setting at it)"
    ]
    assert len(mirror.requests) == before
