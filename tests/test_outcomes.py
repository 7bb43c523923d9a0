"""Every URL a run requests ends in exactly one counted outcome (crawler/outcomes.py).

One crawl meets every outcome a Tencent page can have, each served by a real local HTTP
server: an article, a video, a page the parser cannot read, an empty page, a timeout, 503,
429, a truncated response, a redirect loop, 404, 403, an off-site redirect, a URL over the
length limit and a page robots.txt forbids. The run report must account for each URL once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer, Route, mirror_path
from crawler.outcomes import OUTCOMES, Kind, http_outcome, ignored_outcome, names_of
from crawler.stats import OUTCOME_GROUPS
from tests.support.commands import scrapy
from tests.support.configs import mirror_config

ARTICLE = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data")
VIDEO = load_fixture(FIXTURES_DIR / "tencent" / "video")
HEADLINE_ONLY = load_fixture(FIXTURES_DIR / "tencent" / "headline-only")
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(article_id: str) -> str:
    return f"https://news.qq.com/rain/a/{article_id}"


# outcome -> the article id whose page produces it (ids are 16 characters, except the long one)
IDS = {
    "not_article": "20261126V0000001",
    "parse_error": "20261126A0000002",
    "empty_page": "20261126A0000003",
    "timeout": "20261126A0000004",
    "server_error": "20261126A0000005",
    "rate_limited": "20261126A0000006",
    "connection_error": "20261126A0000007",
    "redirect_loop": "20261126A0000008",
    "gone": "20261126A0000009",
    "http_error": "20261126A0000010",
    "offsite_redirect": "20261126A0000011",
    "url_too_long": "20261126A000000000000012",
    "robots": "20261126A0000013",
}


def slow(seconds: float) -> Route:
    time.sleep(seconds)
    return Route(200, HTML, b"<html><body>too late</body></html>")


@pytest.fixture
def faulty_mirror() -> Iterator[MirrorServer]:
    routes = {
        mirror_path(ARTICLE.url): Route(200, ARTICLE.headers, ARTICLE.body),
        mirror_path(page(IDS["not_article"])): Route(200, VIDEO.headers, VIDEO.body),
        mirror_path(page(IDS["parse_error"])): Route(
            200, HEADLINE_ONLY.headers, HEADLINE_ONLY.body
        ),
        mirror_path(page(IDS["empty_page"])): Route(200, HTML, b""),
        mirror_path(page(IDS["server_error"])): Route(503, HTML, b"busy"),
        mirror_path(page(IDS["rate_limited"])): Route(429, HTML, b"slow down"),
        mirror_path(page(IDS["connection_error"])): Route(
            200, HTML, b"<html><body>cut", truncated=True
        ),
        mirror_path(page(IDS["gone"])): Route(404, HTML, b"deleted"),
        mirror_path(page(IDS["http_error"])): Route(403, HTML, b"forbidden"),
        mirror_path(page(IDS["robots"])): Route(200, ARTICLE.headers, ARTICLE.body),
        "/robots.txt": Route(
            200,
            {"Content-Type": "text/plain"},
            f"User-agent: *\nDisallow: {mirror_path(page(IDS['robots']))}\n".encode(),
        ),
    }
    handlers = {mirror_path(page(IDS["timeout"])): lambda *_: slow(3)}
    with MirrorServer(routes, handlers=handlers) as server:
        loop = mirror_path(page(IDS["redirect_loop"]))
        server.routes[loop] = Route(302, {"Location": f"{server.url}{loop}"}, b"")
        elsewhere = f"http://localhost:{server.httpd.server_port}/moved"
        server.routes[mirror_path(page(IDS["offsite_redirect"]))] = Route(
            301, {"Location": elsewhere}, b""
        )
        yield server


def test_every_requested_url_ends_in_exactly_one_outcome(
    tmp_path: Path, faulty_mirror: MirrorServer
) -> None:
    archive = tmp_path / "archive"
    config = mirror_config(tmp_path / "newsarchive.toml", faulty_mirror, archive)
    text = config.read_text(encoding="utf-8").replace(
        "download_delay = 0\n", "download_delay = 0\nretry_times = 0\ndownload_timeout = 1\n"
    )
    config.write_text(text, encoding="utf-8")
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join([ARTICLE.url, *(page(i) for i in IDS.values())]), encoding="utf-8")
    # The mirror's Tencent URLs are ~60 characters; the long id makes one of them 68.
    base = f"{faulty_mirror.url}/news.qq.com/rain/a/"
    limit = len(base) + 20
    result = scrapy(
        "crawl",
        "tencent",
        "-a",
        f"urls_file={urls}",
        "-s",
        f"NEWSARCHIVE_CONFIG={config}",
        "-s",
        f"URLLENGTH_LIMIT={limit}",
    )
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    (report_path,) = (archive / "runs").rglob("*.json")
    site = json.loads(report_path.read_text())["sites"]["tencent"]
    expected = {"parsed": 1, **{name: 1 for name in IDS}}
    assert site["outcomes"] == expected, site["outcomes"]
    assert site["requested"] == 1 + len(IDS) == sum(site["outcomes"].values())
    assert (
        site["parsed"]
        + site["not_articles"]
        + site["parse_errors"]
        + site["blocked"]
        + site["fetch_failed"]
        + site["filtered"]
        == site["requested"]
    )
    listed = {failure["reason"]: failure["url"] for failure in site["failures"]}
    assert set(listed) == set(IDS) - {"not_article"}
    assert listed["gone"] == page(IDS["gone"])
    # Not articles and pages that say where the article went are kept raw, with their reason.
    kept = {json.loads(p.read_text())["reason"] for p in (archive / "rejected").rglob("*.json")}
    assert kept == {"not_article", "parse_error", "gone", "http_error", "offsite_redirect"}
    # The outcome log holds the same: one line per requested URL (beside it, the monitors'
    # findings about the run, which have no URL).
    lines = [
        json.loads(line)
        for segment in (archive / "state" / "tencent" / "log").rglob("*.jsonl")
        for line in segment.read_text().splitlines()
    ]
    assert sorted(line["outcome"] for line in lines if line["url"]) == sorted(expected)
    assert {line["finding"] for line in lines if not line["url"]} == {"parse_errors"}
    # Nothing off-site was fetched, and the robots-forbidden page never was.
    assert not [p for p in faulty_mirror.requests if p == "/moved"]
    assert mirror_path(page(IDS["robots"])) not in faulty_mirror.requests


def test_the_outcome_table_says_what_counts_and_what_is_retried() -> None:
    assert http_outcome(404) == http_outcome(410) == "gone"
    assert http_outcome(503) == "server_error" and http_outcome(429) == "rate_limited"
    assert http_outcome(403) == "http_error"
    assert ignored_outcome("Forbidden by robots.txt") == "robots"
    assert ignored_outcome("max redirections reached") == "redirect_loop"
    retried = {name for name, entry in OUTCOMES.items() if entry.retried}
    assert retried == {
        "empty_page",
        "blocked",
        "timeout",
        "server_error",
        "rate_limited",
        "connection_error",
        "redirect_loop",
    }
    assert not OUTCOMES["gone"].retried and not OUTCOMES["parse_error"].retried
    assert not any(OUTCOMES[name].failure for name in names_of(Kind.FILTERED))
    # Every outcome is in exactly one summary group.
    grouped = [name for names in OUTCOME_GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(OUTCOMES)
