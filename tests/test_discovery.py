"""Discovery spiders against the local mirror's listing APIs, as a nightly run uses them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.futu import OFFSITE_URL
from crawler.mirror.server import MirrorServer, Route
from tests.support.commands import newsarchive
from tests.support.configs import discovery_config, records, summary_line


@pytest.fixture
def listing_mirror() -> Iterator[MirrorServer]:
    catalog = Catalog(iter_fixtures(), extra_articles=60)
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as server:
        server.catalog = catalog  # type: ignore[attr-defined]
        yield server


def test_discovery_archives_every_listed_article_and_refuses_off_site(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    config = discovery_config(tmp_path, listing_mirror)
    result = newsarchive("--config", str(config), "crawl")
    catalog = listing_mirror.catalog  # type: ignore[attr-defined]
    futu, tencent = summary_line(result.stdout, "futu"), summary_line(result.stdout, "tencent")
    # every generated/fixture article that is a real article and is listed got archived
    listed_articles = {
        site: {
            i.num
            for i in catalog.items
            if i.site == site and i.is_article and (site == "futu" or i.channel)
        }
        for site in ("futu", "tencent")
    }
    # and the listed page no layout reads (flash-text-moved) is archived with generic text
    assert futu["archived"] == len(records(tmp_path, "futu")) == len(listed_articles["futu"]) + 1
    assert futu["layout_unknown"] == 1
    assert tencent["archived"] == len(records(tmp_path, "tencent"))
    assert tencent["archived"] == len(listed_articles["tencent"])
    assert futu["offsite_refused"] == 1
    assert not any("weixin" in path for path in listing_mirror.requests)
    assert OFFSITE_URL in result.stderr
    # blocked/deleted/headline-only pages make the run report problems (exit 1)
    assert result.returncode == 1 and futu["blocked"] == 1


def test_pagination_language_headers_and_referer(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    config = discovery_config(tmp_path, listing_mirror)
    newsarchive("--config", str(config), "crawl")
    flash = [(p, h) for p, h, _ in listing_mirror.request_log if "get-flash-list" in p]
    assert {h["x-news-site-lang"] for _, h in flash} == {"0", "1", "2"}
    assert all(h["referer"].endswith("/main/live") for _, h in flash)
    # Paged by the cursor each answer hands back, until hasMore is 0; no page asked twice.
    cursors = [p.split("seqMark=")[1] for p, _ in flash if "seqMark=" in p]
    assert cursors and all("_" in unquote(c) for c in cursors)
    assert len(flash) == len({(p, h["x-news-site-lang"]) for p, h in flash})
    feeds = [json.loads(b) for p, _, b in listing_mirror.request_log if "getPCList" in p]
    finance_pages = sorted(f["flush_num"] for f in feeds if f["channel_id"] == "news_news_finance")
    assert finance_pages[:3] == [1, 2, 3]  # paged by flush_num until an empty page


def test_since_stops_at_older_articles(tmp_path: Path, listing_mirror: MirrorServer) -> None:
    config = discovery_config(tmp_path, listing_mirror)
    result = newsarchive(
        "--config", str(config), "crawl", "--since", "2026-09-01", "--site", "tencent"
    )
    tencent = summary_line(result.stdout, "tencent")
    assert tencent["too_old"] > 0
    for record in records(tmp_path, "tencent"):
        data = json.loads(record.read_text())
        assert data["published"] >= "2026-09-01" or "rain/a/2026" in data["url"]


def test_second_run_fetches_only_new_ids(tmp_path: Path, listing_mirror: MirrorServer) -> None:
    config = discovery_config(tmp_path, listing_mirror)
    args = ["--config", str(config), "crawl", "--since", "2000-01-01", "--site", "tencent"]
    first = summary_line(newsarchive(*args).stdout, "tencent")
    bigger = Catalog(iter_fixtures(), extra_articles=70)  # 5 more tencent articles listed
    listing_mirror.routes.update(bigger.routes())
    listing_mirror.handlers.update(bigger.handlers())
    before = len(listing_mirror.requests)
    second = summary_line(newsarchive(*args).stdout, "tencent")
    article_fetches = [p for p in listing_mirror.requests[before:] if "/rain/a/" in p]
    assert second["archived"] == 5
    assert second["already_archived"] == first["archived"]
    # only the new ids and the never-archived non-articles were fetched again
    assert len(article_fetches) == 5 + first["not_articles"] + first["parse_errors"]


def test_high_water_mark_is_stored_and_used_by_the_next_run(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    config = discovery_config(tmp_path, listing_mirror)
    newsarchive("--config", str(config), "crawl", "--site", "tencent")
    states = sorted((tmp_path / "archive" / "state" / "tencent" / "runs").glob("*.json"))
    assert len(states) == 1
    mark = json.loads(states[0].read_text())["high_water"]
    newest = max(i.published for i in listing_mirror.catalog.items if i.site == "tencent")  # type: ignore[attr-defined]
    assert mark == newest.isoformat()
    second = summary_line(
        newsarchive("--config", str(config), "crawl", "--site", "tencent").stdout, "tencent"
    )
    assert second["too_old"] > 0 and second["archived"] == 0


def test_robots_txt_disallow_is_honoured(tmp_path: Path, listing_mirror: MirrorServer) -> None:
    blocked = "/news.qq.com/rain/a/20251016A07W8J00"
    listing_mirror.routes["/robots.txt"] = Route(
        200, {"Content-Type": "text/plain"}, f"User-agent: *\nDisallow: {blocked}\n".encode()
    )
    config = discovery_config(tmp_path, listing_mirror)
    result = newsarchive("--config", str(config), "crawl", "--site", "tencent")
    assert blocked not in listing_mirror.requests
    assert "Forbidden by robots.txt" in result.stderr


LISTINGS = {
    "tencent": ["/i.news.qq.com/web_feed/getPCList", "/r.inews.qq.com/gw/event/hot_ranking_list"],
    "futu": [
        "/news.futunn.com/news-site-api/main/get-flash-list",
        "/news.futunn.com/news-site-api/main/get-market-list",
        "/news.futunn.com/sitemap.xml",
    ],
}
WRONG_SHAPES = {
    "json array": (b"[1, 2, 3]", "application/json"),
    "html": (b"<html><body>403 Forbidden</body></html>", "text/html"),
    "truncated json": (b'{"code": 0, "data": {"data": {"news": [{"id": "1"', "application/json"),
    "json of another shape": (
        b'{"code": 0, "ret": 0, "list": [], "idlist": [7]}',
        "application/json",
    ),
}


@pytest.mark.parametrize("shape", sorted(WRONG_SHAPES))
@pytest.mark.parametrize(
    ("site", "path"), [(site, path) for site, paths in LISTINGS.items() for path in paths]
)
def test_listing_shape_drift_is_a_reported_error_not_no_news(
    tmp_path: Path, listing_mirror: MirrorServer, site: str, path: str, shape: str
) -> None:
    """Any body of the wrong shape is a counted discovery error with its URL, never an
    exception in a callback, never taken for a quiet night."""
    body, ctype = WRONG_SHAPES[shape]
    listing_mirror.handlers[path] = lambda q, h, b: Route(200, {"Content-Type": ctype}, body)
    config = discovery_config(tmp_path, listing_mirror)
    result = newsarchive("--config", str(config), "crawl", "--site", site)
    assert "Traceback" not in result.stderr and "Spider error" not in result.stderr
    assert result.returncode == 1
    assert f"{site}: DISCOVERY BROKEN" in result.stdout
    assert f"discovery broken at {listing_mirror.url}{path}" in result.stderr
    assert summary_line(result.stdout, site)["discovery_errors"] >= 1
    # no high-water mark from a broken run
    assert not (tmp_path / "archive" / "state" / site / "runs").exists()


def test_sitemaps_are_followed_index_to_index_to_urlset_gzipped_or_not(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    """Sitemaps only: the index lists a zhhans sitemap that is an index itself, a zhhant urlset,
    an English urlset served gzipped, and a quality sitemap that is skipped."""
    config = discovery_config(tmp_path, listing_mirror, sources=["sitemaps"])
    result = newsarchive("--config", str(config), "crawl", "--site", "futu")
    futu = summary_line(result.stdout, "futu")
    assert futu["discovery_errors"] == 0, result.stderr[-3000:]
    fetched = set(listing_mirror.requests)
    assert "/news.futunn.com/sitemap-news-zhhans-index-test-48hours-part1.xml" in fetched
    assert "/news.futunn.com/sitemap-news-en-index-test-48hours.xml.gz" in fetched
    assert not [p for p in fetched if "quality" in p]
    catalog = listing_mirror.catalog  # type: ignore[attr-defined]
    posts = {i.num for i in catalog.items if i.site == "futu" and i.kind == "post" and i.is_article}
    stored = {json.loads(p.read_text())["id"].split("-")[0] for p in records(tmp_path, "futu")}
    assert stored == posts and futu["archived"] == len(records(tmp_path, "futu"))
    # Every language's post came through its own sitemap, published time and all.
    assert {json.loads(p.read_text())["language"] for p in records(tmp_path, "futu")} == {
        "zh-CN",
        "zh-HK",
        "en",
    }


def test_tencent_sitemaps_are_a_discovery_source(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    config = discovery_config(
        tmp_path, listing_mirror, tencent={"channels": [], "hot_ranking": False, "sitemaps": True}
    )
    result = newsarchive("--config", str(config), "crawl", "--site", "tencent")
    tencent = summary_line(result.stdout, "tencent")
    assert tencent["discovery_errors"] == 0, result.stderr[-3000:]
    assert "/news.qq.com/sitemap/sitemap_2.xml" in listing_mirror.requests
    assert not [p for p in listing_mirror.requests if "getPCList" in p or "hot_ranking" in p]
    catalog = listing_mirror.catalog  # type: ignore[attr-defined]
    listed = {i.num for i in catalog.items if i.site == "tencent" and i.is_article and i.channel}
    assert {json.loads(p.read_text())["id"] for p in records(tmp_path, "tencent")} == listed


def test_a_since_older_than_every_source_reaches_is_said(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    config = discovery_config(tmp_path, listing_mirror)
    result = newsarchive(
        "--config", str(config), "crawl", "--site", "futu", "--since", "2020-01-01"
    )
    assert result.returncode == 1
    assert (
        "PROBLEM: futu: --since is older than any of its discovery sources lists" in result.stdout
    )
    assert "sitemaps: the 48-hour news sitemaps" in result.stderr
    # A source that keeps its whole history reaches any date: no such problem.
    config = discovery_config(tmp_path, listing_mirror, tencent={"sitemaps": True})
    result = newsarchive(
        "--config", str(config), "crawl", "--site", "tencent", "--since", "2020-01-01"
    )
    assert "discovery sources lists" not in result.stdout


def test_a_past_range_archives_only_that_range_and_stores_no_high_water_mark(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    catalog = listing_mirror.catalog  # type: ignore[attr-defined]
    days = sorted({i.published.date() for i in catalog.items if i.site == "tencent" and i.channel})
    since, until = days[0], days[len(days) // 2]
    config = discovery_config(tmp_path, listing_mirror)
    result = newsarchive(
        "--config",
        str(config),
        "crawl",
        "--site",
        "tencent",
        "--since",
        str(since),
        "--until",
        str(until),
    )
    tencent = summary_line(result.stdout, "tencent")
    assert tencent["too_new"] > 0 and tencent["archived"] > 0, result.stdout
    for record in records(tmp_path, "tencent"):
        published = json.loads(record.read_text())["published"][:10]
        assert str(since) <= published <= str(until)
    assert not (tmp_path / "archive" / "state" / "tencent" / "runs").exists()
    backwards = newsarchive(
        "--config", str(config), "crawl", "--since", str(until), "--until", str(since)
    )
    assert backwards.returncode == 2 and "--until is before --since" in backwards.stderr
