"""A damaged record (truncated by hand, as a bad disk or a partial copy leaves it) never crashes
a reader: each command names its key and `newsarchive verify` in one line, exits 1 where it was
asked for that article, and goes on with every other article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from tests.support.commands import newsarchive
from tests.test_web import get, serving

DAMAGED = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")
OTHERS = [
    load_fixture(FIXTURES_DIR / "futu" / "zh-cn-post"),
    load_fixture(FIXTURES_DIR / "tencent" / "current-window-data"),
]
DAMAGED_ID = "41283375-en"


@pytest.fixture
def damaged(mirror_config: Path, archive_dir: Path) -> tuple[Path, str]:
    urls = [x for f in (DAMAGED, *OTHERS) for x in ("--url", f.url)]
    crawled = newsarchive("--config", str(mirror_config), "crawl", *urls)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    (record,) = archive_dir.glob(f"articles/futu/**/{DAMAGED_ID}.json")
    body = record.read_bytes()
    record.write_bytes(body[: len(body) // 2])  # truncated
    return mirror_config, record.relative_to(archive_dir).as_posix()


def one_line_naming(stderr: str, key: str) -> None:
    assert "Traceback" not in stderr, stderr[-3000:]
    (line,) = [line for line in stderr.splitlines() if key in line]
    assert "newsarchive verify" in line, line


@pytest.mark.parametrize(
    "args",
    [
        ["show", DAMAGED_ID],
        ["show", DAMAGED_ID, "--json"],
        ["show", DAMAGED_ID, "--text"],
        ["diff", DAMAGED_ID],
    ],
)
def test_asking_for_the_damaged_article_is_one_line_and_exit_1(
    damaged: tuple[Path, str], args: list[str]
) -> None:
    config, key = damaged
    result = newsarchive("--config", str(config), *args)
    assert result.returncode == 1
    one_line_naming(result.stderr, key)


def test_every_other_reader_goes_on_with_the_other_articles(
    damaged: tuple[Path, str], tmp_path: Path
) -> None:
    config, key = damaged
    shown = newsarchive("--config", str(config), "show", "62202518-zh-CN")
    assert shown.returncode == 0, shown.stderr

    # The export reads the records as the catalog holds them: the damaged object's record
    # is exported as it was stored (`verify` names the object).
    out = tmp_path / "export.jsonl"
    exported = newsarchive("--config", str(config), "export", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    ids = {json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()}
    assert DAMAGED_ID in ids and len(ids) == 3

    indexed = newsarchive("--config", str(config), "index")
    assert indexed.returncode == 0 and "Traceback" not in indexed.stderr, indexed.stderr
    found = newsarchive("--config", str(config), "search", "芯片")
    assert found.returncode == 0 and "62202518-zh-CN" in found.stdout, found.stderr

    reparsed = newsarchive("--config", str(config), "reparse", "--site", "futu")
    assert reparsed.returncode == 1  # one article failed; the other was reparsed
    one_line_naming(reparsed.stdout + reparsed.stderr, key)
    assert "unchanged 1" in reparsed.stdout, reparsed.stdout

    for base in serving(config):
        status, _, page = get(base, f"/articles/{DAMAGED_ID}?site=futu")
        assert status == 500 and key in page and "newsarchive verify" in page
        status, _, page = get(base, "/articles/62202518-zh-CN")
        assert status == 200
