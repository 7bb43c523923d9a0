"""A Futu page that matches no known layout is said loudly, kept raw, and recoverable.

No real capture of a current Futu article page exists, so the parser guards itself: a page
that is not a challenge but has no article container, or less text than any real page of its
kind, is `layout_changed`, counted apart from parse errors, and makes the run exit 1. After a
parser fix, `newsarchive reparse --rejected` turns the kept raw pages into articles without
fetching them again, exactly once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from crawler.items import FetchedPage, RejectedItem
from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer
from crawler.parsers import PARSERS
from pipelines.records.writer import archive_rejected
from pipelines.store import LocalStore
from tests.support.commands import newsarchive
from tests.support.configs import records, summary_line

MOVED = load_fixture(FIXTURES_DIR / "futu" / "flash-text-moved")
POST = load_fixture(FIXTURES_DIR / "futu" / "zh-cn-post")


def test_a_page_of_no_known_layout_is_reported_apart_and_kept_raw(
    tmp_path: Path, mirror: MirrorServer, mirror_config: Path, archive_dir: Path
) -> None:
    result = newsarchive("--config", str(mirror_config), "crawl", "--url", MOVED.url)
    assert result.returncode == 1, result.stderr[-3000:]
    futu = summary_line(result.stdout, "futu")
    assert futu["layout_changed"] == 1 and futu["parse_errors"] == 0
    assert (
        "PROBLEM: futu: 1 page with no known layout: the site's layout may have changed"
        in result.stdout
    )
    (kept,) = [json.loads(p.read_text()) for p in (archive_dir / "rejected").rglob("*.json")]
    moved = PARSERS["futu"].identify(MOVED.url)
    assert moved is not None
    assert kept["reason"] == "layout_changed" and kept["url"] == moved.url


def reject_yesterday(archive_dir: Path) -> None:
    """What last night's crawl kept when its parser could not read this page."""
    ref = PARSERS["futu"].identify(POST.url)
    assert ref is not None
    page = FetchedPage(
        site="futu", page_id=ref.id, url=ref.url, source_url=POST.url,
        fetched_url=ref.url, status=200, headers=POST.headers, body=POST.body,
        fetched_at=datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
    )  # fmt: skip
    item = RejectedItem(page=page, reason="layout_changed", detail="no article container")
    archive_rejected(LocalStore(archive_dir), item)


def test_reparse_rejected_recovers_the_kept_pages_exactly_once(
    tmp_path: Path, mirror_config: Path, archive_dir: Path
) -> None:
    reject_yesterday(archive_dir)
    args = ["--config", str(mirror_config), "reparse", "--rejected", "--site", "futu",
            "--since", "2026-11-25", "--until", "2026-11-25"]  # fmt: skip
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
    other = newsarchive("--config", str(mirror_config), "reparse", "--rejected",
                        "--since", "2026-11-26")  # fmt: skip
    assert other.stdout.splitlines()[0].startswith("reparsed 0")
