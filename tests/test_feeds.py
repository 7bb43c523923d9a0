"""Scrapy's own feed export (`scrapy crawl <site> -O FILE`), read back as its users read it.

The run mixes articles with pages that are no article (a video, a headline-only page): the
feed holds one row per archived article with the documented columns; the others are archived
raw and never become rows (Scrapy took its CSV columns from the first item it met).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from crawler.items import FEED_FIELDS
from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from tests.support.commands import REPO, scrapy

CASES = ("video", "current-window-data", "headline-only", "gb2312-2016")  # a rejected one first
ARTICLES = {"current-window-data", "gb2312-2016"}


def crawl_into(feed: Path, mirror_config: Path, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    fixtures = [load_fixture(FIXTURES_DIR / "tencent" / case) for case in CASES]
    urls.write_text("\n".join(f.url for f in fixtures), encoding="utf-8")
    result = scrapy(
        "crawl",
        "tencent",
        "-a",
        f"urls_file={urls}",
        "-s",
        f"NEWSARCHIVE_CONFIG={mirror_config}",
        "-O",
        str(feed),
    )
    assert result.returncode == 1, result.stderr[-3000:]  # the headline-only page: a problem
    assert "TypeError" not in result.stderr and "Traceback" not in result.stderr
    assert f"Stored {feed.suffix[1:]} feed (2 items)" in result.stderr, result.stderr[-3000:]


def expected_titles() -> set[str]:
    return {
        load_fixture(FIXTURES_DIR / "tencent" / case).expected()["article"]["title"]
        for case in ARTICLES
    }


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_json_feeds_hold_one_row_per_archived_article(
    suffix: str, mirror_config: Path, tmp_path: Path
) -> None:
    feed = tmp_path / f"items{suffix}"
    crawl_into(feed, mirror_config, tmp_path)
    text = feed.read_text(encoding="utf-8")
    rows = json.loads(text) if suffix == ".json" else [json.loads(x) for x in text.splitlines()]
    assert [list(row) for row in rows] == [list(FEED_FIELDS)] * 2
    assert {row["title"] for row in rows} == expected_titles()
    for row in rows:
        assert row["archive_status"] == "archived" and row["record_key"].startswith("articles/")
        assert isinstance(row["tickers"], list) and row["text"] and row["site"] == "tencent"


def test_the_csv_feed_has_the_documented_columns_whatever_comes_first(
    mirror_config: Path, tmp_path: Path
) -> None:
    feed = tmp_path / "items.csv"
    crawl_into(feed, mirror_config, tmp_path)
    with feed.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == FEED_FIELDS
        rows = list(reader)
    assert {row["title"] for row in rows} == expected_titles()
    assert all(
        "FetchedPage(" not in value and "b'" not in value for row in rows for value in row.values()
    )
    documented = " ".join((REPO / "docs" / "reading.md").read_text(encoding="utf-8").split())
    assert ", ".join(FEED_FIELDS) in documented  # documented, in this order
