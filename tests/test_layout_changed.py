"""A page that matches no known layout of its site is said loudly, still readable, and
recoverable.

A page that is not a challenge but has no article container, or less text than any real page
of its kind, matches no layout. Its text comes from the generic extractor: archived with
`extraction: "generic"` and the layout it was tried against, counted `layout_unknown` (a
problem: exit 1), the raw page kept. Once a layout reads the page, `reparse` stores the site
parser's version as a new one that says so. A page where the generic extractor finds nothing
either stays `layout_changed`, kept raw, and `reparse --rejected` recovers it after the fix.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from crawler.items import ArticleItem, FetchedPage, RejectedItem
from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer, Route, mirror_path
from crawler.parsers import PARSERS
from crawler.parsers.errors import LayoutChanged
from crawler.parsers.generic import generic_article
from pipelines.records.day_index import DayIndex
from pipelines.records.record_schema import record_problems
from pipelines.records.writer import archive_article, archive_rejected
from pipelines.store import LocalStore
from tests.support.commands import newsarchive
from tests.support.configs import mirror_config as write_mirror_config
from tests.support.configs import records, summary_line

CURRENT = "futu.article/origin-content-2022"  # the layout today's Futu pages are tried against
MOVED = load_fixture(FIXTURES_DIR / "futu" / "flash-text-moved")
POST = load_fixture(FIXTURES_DIR / "futu" / "zh-cn-post")
# A page of the site with no container and almost no text (no script: not a challenge).
EMPTY_URL = "https://news.futunn.com/post/55501234"
EMPTY_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>加载中 - 富途牛牛</title></head>"
    "<body><div class='wrap'><h1>加载中</h1><p>请稍候</p></div></body></html>"
).encode()


def test_a_page_of_no_known_layout_is_archived_with_generic_text_and_reported(
    tmp_path: Path, mirror: MirrorServer, mirror_config: Path, archive_dir: Path
) -> None:
    result = newsarchive("--config", str(mirror_config), "crawl", "--url", MOVED.url)
    assert result.returncode == 1, result.stderr[-3000:]
    futu = summary_line(result.stdout, "futu")
    assert futu["layout_unknown"] == 1 and futu["archived"] == 1 and futu["parsed"] == 0
    assert futu["layout_changed"] == 0 and futu["parse_errors"] == 0
    assert (
        "PROBLEM: futu: 1 page in no known layout, archived with generic text "
        "(extraction: generic)" in result.stdout
    )
    (path,) = records(tmp_path, "futu")
    record = json.loads(path.read_text())
    assert record["extraction"] == "generic" and record["layout_tried"] == CURRENT
    assert record["parser"] == "generic.trafilatura"
    assert "伦铜盘中涨超2%" in record["text"] and record["published"] == "2024-03-18T20:47:00+08:00"
    assert record_problems(record) == []
    assert record["warc"] is not None  # the page as served is kept, as for any article
    shown = newsarchive("--config", str(mirror_config), "show", record["id"])
    assert f"generic text (no known layout: tried {CURRENT})" in shown.stdout
    listed = newsarchive("--config", str(mirror_config), "ls", "--site", "futu")
    assert "[generic text]" in listed.stdout
    only = newsarchive("--config", str(mirror_config), "ls", "--generic")
    assert only.stdout.count("[generic text]") == len(only.stdout.splitlines()) == 1


def test_a_page_the_generic_extractor_cannot_read_either_stays_layout_changed(
    tmp_path: Path, archive_dir: Path
) -> None:
    ref = PARSERS["futu"].identify(EMPTY_URL)
    assert ref is not None
    routes = {mirror_path(ref.url): Route(200, {"Content-Type": "text/html"}, EMPTY_PAGE)}
    with MirrorServer(routes) as server:
        config = write_mirror_config(tmp_path / "newsarchive.toml", server, archive_dir)
        result = newsarchive("--config", str(config), "crawl", "--url", EMPTY_URL)
    assert result.returncode == 1, result.stderr[-3000:]
    futu = summary_line(result.stdout, "futu")
    assert futu["layout_changed"] == 1 and futu["archived"] == 0
    assert "PROBLEM: futu: 1 page with no known layout" in result.stdout
    (kept,) = [json.loads(p.read_text()) for p in (archive_dir / "rejected").rglob("*.json")]
    assert kept["reason"] == "layout_changed" and kept["url"] == ref.url


def archive_generic_yesterday(archive_dir: Path, spool: Path) -> str:
    """What last night's crawl archived when no layout read this page: generic text."""
    parser = PARSERS["futu"]
    ref = parser.identify(POST.url)
    assert ref is not None
    article = generic_article(
        parser,
        POST.url,
        POST.body,
        POST.headers,
        LayoutChanged(POST.url, "no container", layout="futu.article"),
    )
    assert article is not None and article.extraction == "generic"
    page = FetchedPage(
        site="futu",
        page_id=ref.id,
        url=ref.url,
        source_url=POST.url,
        fetched_url=ref.url,
        status=200,
        headers=POST.headers,
        body=POST.body,
        fetched_at=datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
    )
    store, daily = LocalStore(archive_dir), DayIndex(spool)
    item = ArticleItem(page=page, article=article)
    archive_article(store, item, lambda result: daily.add_article(store, item, result))
    daily.flush(store)
    return ref.id


def test_reparse_replaces_generic_text_once_a_layout_reads_the_page(
    tmp_path: Path, mirror_config: Path, archive_dir: Path
) -> None:
    article_id = archive_generic_yesterday(archive_dir, tmp_path / "spool")
    first = newsarchive("--config", str(mirror_config), "reparse", "--site", "futu")
    assert first.returncode == 0, first.stderr[-3000:]
    lines = first.stdout.splitlines()
    assert lines[0] == "reparsed 1, new version 1, unchanged 0, failed 0"
    assert lines[1].startswith(f"futu {article_id}: v1 -> v2 (")
    assert lines[1].endswith(
        f"; generic text by generic.trafilatura -> layout text by {CURRENT})"
    ), lines[1]
    newest = json.loads(
        newsarchive("--config", str(mirror_config), "show", article_id, "--json").stdout
    )
    assert newest["version"] == 2 and newest["extraction"] is None
    assert newest["parser"] == CURRENT and "extraction" in newest["changed_fields"]
    assert newest["text"] == POST.expected()["article"]["text"]
    again = newsarchive("--config", str(mirror_config), "reparse", "--site", "futu")
    assert again.stdout.splitlines()[0] == "reparsed 1, new version 0, unchanged 1, failed 0"


def reject_yesterday(archive_dir: Path) -> None:
    """What last night's crawl kept when its parser could not read this page at all."""
    ref = PARSERS["futu"].identify(POST.url)
    assert ref is not None
    page = FetchedPage(
        site="futu",
        page_id=ref.id,
        url=ref.url,
        source_url=POST.url,
        fetched_url=ref.url,
        status=200,
        headers=POST.headers,
        body=POST.body,
        fetched_at=datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
    )
    item = RejectedItem(page=page, reason="layout_changed", detail="no article container")
    archive_rejected(LocalStore(archive_dir), item)


def test_reparse_rejected_recovers_the_kept_pages_exactly_once(
    tmp_path: Path, mirror_config: Path, archive_dir: Path
) -> None:
    reject_yesterday(archive_dir)
    args = [
        "--config",
        str(mirror_config),
        "reparse",
        "--rejected",
        "--site",
        "futu",
        "--since",
        "2026-11-25",
        "--until",
        "2026-11-25",
    ]
    first = newsarchive(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.splitlines()[0] == "reparsed 1, recovered 1, unchanged 0, failed 0"
    (record_path,) = records(tmp_path, "futu")
    record = json.loads(record_path.read_text())
    assert record["id"] == POST.expected()["article"]["id"] and record["version"] == 1
    listed = newsarchive("--config", str(mirror_config), "ls", "--site", "futu")
    assert record["id"] in listed.stdout
    second = newsarchive(*args)
    assert second.stdout.splitlines()[0] == "reparsed 1, recovered 0, unchanged 1, failed 0"
    assert len(records(tmp_path, "futu")) == 1  # no second copy, no second version
    # Another day's rejections are not touched.
    other = newsarchive(
        "--config", str(mirror_config), "reparse", "--rejected", "--since", "2026-11-26"
    )
    assert other.stdout.splitlines()[0].startswith("reparsed 0")
