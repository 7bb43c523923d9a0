"""Full-text search: Chinese two-character words and phrases, English stemming and phrases,
filters, bad queries, incremental refresh, S3, and two writers on one index file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer
from pipelines.read.query import MARK_END, MARK_START, Query, QueryError, cjk_bigrams
from tests.support.commands import newsarchive
from tests.support.s3server import WeedMini

ARTICLES = [f for f in iter_fixtures() if f.read_by_layout]
CHIP_CN = "62202518-zh-CN"  # 阿里巴巴新AI芯片亮相 ...
CHIP_TENCENT = "20240920A07Y5Y00"  # 苹果发布搭载M5芯片的新款iPad Pro
MA_YUN = "41283375-en"


def test_cjk_text_is_indexed_as_overlapping_bigrams() -> None:
    assert cjk_bigrams("阿里巴巴AI芯片") == "阿里 里巴 巴巴 巴 芯片 片"
    assert cjk_bigrams("no chinese") == ""


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("芯片", 'cjk: "芯片"'),
        ("阿里巴巴", 'cjk: "阿里 里巴 巴巴"'),
        ("芯", 'cjk: "芯" *'),
        ("chips", '{title body}: "chips"'),
        ('"pre-sale gameplay"', '{title body}: "pre-sale gameplay"'),
        ('"unbalanced quote', '{title body}: "unbalanced" AND {title body}: "quote"'),
        ("NEAR(a b)", '{title body}: "NEAR" AND {title body}: "a" AND {title body}: "b"'),
        ("col:^x*", '{title body}: "col" AND {title body}: "x"'),
    ],
)
def test_queries_are_plain_text_never_fts_syntax(text: str, expression: str) -> None:
    assert Query.parse(text).expression == expression


@pytest.mark.parametrize("text", ["", "   ", "***", '"', "()"])
def test_a_query_without_words_is_refused(text: str) -> None:
    with pytest.raises(QueryError):
        Query.parse(text)


def crawl_all(config: Path, env: dict[str, str] | None = None) -> None:
    urls = [x for f in ARTICLES for x in ("--url", f.url)]
    result = newsarchive("--config", str(config), "crawl", *urls, env=env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]


def search(config: Path, *args: str, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    result = newsarchive("--config", str(config), "search", *args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def ids(hits: list[dict[str, object]]) -> set[object]:
    return {hit["id"] for hit in hits}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, mirror: MirrorServer) -> Path:
    """Every sample article crawled into a local archive; the crawl refreshed the index."""
    from tests.support.configs import mirror_config

    work = tmp_path_factory.mktemp("search")
    config = mirror_config(work / "newsarchive.toml", mirror, work / "archive")
    crawl_all(config)
    assert (work / "spool" / "search.sqlite").is_file()  # refreshed at the crawl's end
    return config


def test_chinese_two_character_words_and_phrases_match_where_they_occur(indexed: Path) -> None:
    assert ids(search(indexed, "芯片")) == {CHIP_CN, CHIP_TENCENT}
    assert ids(search(indexed, "阿里巴巴")) >= {CHIP_CN}
    assert CHIP_TENCENT not in ids(search(indexed, "阿里巴巴"))
    assert ids(search(indexed, "AI芯片")) == {CHIP_CN}  # adjacent only: not "M5芯片，AI性能"
    assert search(indexed, "芯阿") == []  # the characters occur, never side by side
    (hit,) = search(indexed, "芯片", "--site", "futu")
    assert f"{MARK_START}芯片{MARK_END}" in str(hit["snippet"])  # taken from the original text


def test_english_stems_phrases_and_filters(indexed: Path) -> None:
    assert MA_YUN in ids(search(indexed, "disrupting"))  # stemmed: the title says disrupts
    assert MA_YUN in ids(search(indexed, '"pre-sale mechanism"'))
    assert search(indexed, '"mechanism pre-sale"') == []  # a phrase keeps its order
    hits = search(indexed, "芯片", "--ticker", "baba.us")
    assert ids(hits) == {CHIP_CN} and hits[0]["tickers"] == ["BABA.US", "NVDA.US", "09988.HK"]
    assert ids(search(indexed, "芯片", "--lang", "zh", "--since", "2025-01-01")) == {CHIP_CN}
    assert search(indexed, "芯片", "--until", "2024-01-01") == []
    assert search(indexed, "nothing-like-this-anywhere") == []  # --json: no output at all


def test_plain_output_marks_matches_and_bad_queries_exit_2(indexed: Path) -> None:
    result = newsarchive("--config", str(indexed), "search", "芯片", "--limit", "1")
    assert result.returncode == 0 and "[芯片]" in result.stdout
    assert len(result.stdout.splitlines()) == 2  # the hit line and its snippet
    for bad in ('"', "***", ""):
        refused = newsarchive("--config", str(indexed), "search", bad)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert refused.stderr.strip() == "newsarchive: the query holds no words to search for"


def test_a_second_refresh_with_nothing_new_reads_no_text(indexed: Path) -> None:
    again = newsarchive("--config", str(indexed), "index")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("indexed 0 articles from 0 new day segments")


def test_two_writers_on_one_index_file_do_not_corrupt_it(indexed: Path, tmp_path: Path) -> None:
    index = tmp_path / "shared.sqlite"
    config = tmp_path / "shared.toml"
    config.write_text(indexed.read_text() + f'\n[search]\npath = "{index}"\n')
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "--config", str(config), "index"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    db = sqlite3.connect(index)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM articles").fetchone() == (len(ARTICLES),)
    assert db.execute("SELECT count(*) FROM fts").fetchone() == (len(ARTICLES),)
    db.close()


def test_index_and_search_an_archive_on_s3(
    tmp_path: Path, mirror: MirrorServer, weed: WeedMini, bucket: str
) -> None:
    from tests.test_s3_archive import s3_config

    config = s3_config(tmp_path, mirror, bucket)
    env = weed.env()
    crawl_all(config, env)
    assert not (tmp_path / "spool" / "search.sqlite").exists()  # S3: crawls do not index
    built = newsarchive("--config", str(config), "index", env=env)
    assert built.returncode == 0 and f"indexed {len(ARTICLES)} articles" in built.stdout
    assert ids(search(config, "芯片", env=env)) == {CHIP_CN, CHIP_TENCENT}


def test_search_before_any_index_says_what_to_run(tmp_path: Path, mirror: MirrorServer) -> None:
    from tests.support.configs import mirror_config

    config = mirror_config(tmp_path / "c.toml", mirror, tmp_path / "archive")
    result = newsarchive("--config", str(config), "search", "芯片")
    assert result.returncode == 2 and "run `newsarchive index` first" in result.stderr


def test_an_index_of_an_older_layout_is_rebuilt(indexed: Path, tmp_path: Path) -> None:
    index = tmp_path / "old.sqlite"
    old = sqlite3.connect(index)  # the first layout: texts inside the articles rows
    old.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
    old.execute("INSERT INTO meta VALUES ('schema', '1')")
    old.execute("CREATE TABLE articles (doc INTEGER PRIMARY KEY, site TEXT, id TEXT, text TEXT)")
    old.execute("CREATE TABLE segments (key TEXT PRIMARY KEY)")
    old.execute("INSERT INTO segments VALUES ('index/futu/2025/01/01/x.jsonl')")
    old.commit()
    old.close()
    config = tmp_path / "old.toml"
    config.write_text(indexed.read_text() + f'\n[search]\npath = "{index}"\n')
    built = newsarchive("--config", str(config), "index")
    assert built.returncode == 0, built.stderr
    assert f"indexed {len(ARTICLES)} articles" in built.stdout
    assert ids(search(config, "芯片")) == {CHIP_CN, CHIP_TENCENT}
