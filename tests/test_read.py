"""Reading the archive back (`ls`, `show`, `export`, `runs`, the Python API) on archives built
by a real discovery crawl of the mirror: the local folder and a bucket on weed mini."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import FIXTURES_DIR, iter_fixtures, load_fixture
from crawler.mirror.server import MirrorServer
from pipelines.read.reader import open_archive
from pipelines.store import LocalStore
from tests.support.commands import newsarchive
from tests.support.configs import discovery_config
from tests.support.s3server import WeedMini

FUTU_EN = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")
GENERATED = 60


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Catalog]]:
    """One discovery crawl of the mirror (fixtures + generated articles) into a local folder."""
    tmp_path = tmp_path_factory.mktemp("read")
    catalog = Catalog(iter_fixtures(), extra_articles=GENERATED)
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror:
        config = discovery_config(tmp_path, mirror)
        result = newsarchive("--config", str(config), "crawl")
        assert "run report: runs/" in result.stdout, result.stderr[-3000:]
    yield config, catalog


def records(config: Path) -> list[dict]:
    root = config.parent / "archive" / "articles"
    return [json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))]


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = newsarchive("--config", str(config), *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_ls_lists_every_archived_article_with_filters(crawled: tuple[Path, Catalog]) -> None:
    config, _ = crawled
    archived = records(config)
    listed = [json.loads(line) for line in cli(config, "ls", "--json").stdout.splitlines()]
    assert sorted(e["record_key"] for e in listed) == sorted(
        f"articles/{r['site']}/{r['published'][:4]}/{r['published'][5:7]}/{r['published'][8:10]}/"
        f"{r['id']}.json"
        for r in archived
    )
    baba = cli(config, "ls", "--site", "futu", "--ticker", "BABA.US").stdout.splitlines()
    assert baba[0] == (
        "2024-05-08 16:12  futu     41283375-en  Ma Yun disrupts Ali: I have no answers, but I "
        "know the direction  [BABA.US]"
    )
    # the mirror's generated articles are clones of the fixture pages, tickers included
    assert {line.split()[3] for line in baba} == {
        r["id"] for r in archived if r["site"] == "futu" and "BABA.US" in r["tickers"]
    }
    in_2025 = cli(config, "ls", "--since", "2025-01-01", "--until", "2025-12-31", "--json")
    years = {json.loads(line)["published"][:4] for line in in_2025.stdout.splitlines()}
    expected = {r["published"][:4] for r in archived if r["published"].startswith("2025")}
    assert years == expected == {"2025"}
    assert len(in_2025.stdout.splitlines()) == sum(
        r["published"].startswith("2025") for r in archived
    )


def test_listing_reads_the_catalog_and_lists_what_the_day_index_lists(
    crawled: tuple[Path, Catalog],
) -> None:
    config, _ = crawled
    archive = config.parent / "archive"

    class CountingStore(LocalStore):
        gets = 0

        def get(self, key: str) -> bytes | None:
            CountingStore.gets += 1
            return super().get(key)

    from pipelines.read.reader import ArchiveReader

    listed = list(ArchiveReader(CountingStore(archive)).articles(site="futu"))
    futu_records = [r for r in records(config) if r["site"] == "futu"]
    assert len(listed) == len(futu_records) > GENERATED // 2
    assert CountingStore.gets == 0  # the catalog's files, read by pyarrow: no record read
    # An archive from before the catalog lists the same from its per-day index segments.
    aside = config.parent / "catalog-aside"
    (archive / "catalog").rename(aside)
    try:
        by_days = list(ArchiveReader(CountingStore(archive)).articles(site="futu"))
    finally:
        aside.rename(archive / "catalog")
    segments = list(LocalStore(archive).list("daily/futu/"))
    assert CountingStore.gets == len(segments) < len(futu_records) / 4
    assert by_days == listed and [a.published for a in by_days] == sorted(
        a.published for a in listed
    )


def test_show_prints_record_text_and_raw_page(crawled: tuple[Path, Catalog]) -> None:
    config, _ = crawled
    archive = config.parent / "archive"
    record = json.loads((archive / "articles/futu/2024/05/08/41283375-en.json").read_text())
    shown = json.loads(cli(config, "show", "41283375-en", "--json").stdout)
    assert shown == record
    text = cli(config, "show", "41283375-en", "--text").stdout
    assert text == (archive / record["text_key"]).read_text() + "\n"  # print ends the line
    raw = newsarchive("--config", str(config), "show", "41283375-en", "--raw")
    assert raw.stdout.encode("utf-8") == FUTU_EN.body
    readable = cli(config, "show", "41283375-en").stdout
    assert readable.startswith("Ma Yun disrupts Ali") and "version 1 of 1" in readable
    missing = newsarchive("--config", str(config), "show", "999-en")
    assert missing.returncode == 1 and "no article 999-en" in missing.stderr


def test_export_jsonl_and_csv_carry_every_article_with_its_text(
    crawled: tuple[Path, Catalog],
) -> None:
    config, _ = crawled
    archived = {(r["site"], r["id"]): r for r in records(config)}
    lines = cli(config, "export", "--format", "jsonl").stdout.splitlines()
    exported = {(e["site"], e["id"]): e for e in map(json.loads, lines)}
    assert exported.keys() == archived.keys()
    assert all(exported[k]["text"] == archived[k]["text"] for k in archived)
    table = list(csv.DictReader(io.StringIO(cli(config, "export", "--format", "csv").stdout)))
    assert {(row["site"], row["id"]) for row in table} == archived.keys()
    assert all(row["text"] == archived[(row["site"], row["id"])]["text"] for row in table)
    assert "exported" in cli(config, "export", "--site", "tencent").stderr


def test_runs_lists_the_crawl_and_its_report(crawled: tuple[Path, Catalog]) -> None:
    config, _ = crawled
    (line,) = cli(config, "runs").stdout.splitlines()
    (report,) = [json.loads(x) for x in cli(config, "runs", "--json").stdout.splitlines()]
    archived = {site: sum(r["site"] == site for r in records(config)) for site in report["sites"]}
    assert {s: c["archived"] for s, c in report["sites"].items()} == archived
    assert report["mode"] == "discovery" and report["exit_status"] in (0, 1)
    failed_urls = {f["url"] for f in report["sites"]["futu"]["failures"]}
    assert "https://news.futunn.com/en/post/79436146" in failed_urls  # the challenge page
    assert line.startswith(report["started"][:19]) and f"exit {report['exit_status']}" in line


def test_python_api_yields_typed_articles(crawled: tuple[Path, Catalog]) -> None:
    config, _ = crawled
    archive = open_archive(str(config.parent / "archive"))
    found = list(archive.articles(site="futu", ticker="baba.us"))
    assert all("BABA.US" in a.tickers for a in found) and len(found) > 1
    (article,) = [a for a in found if a.id == "41283375-en"]
    assert article.id == "41283375-en" and article.tickers == ("BABA.US",)
    assert article.published.isoformat() == "2024-05-08T16:12:00+08:00"
    assert article.text().startswith("User first,$Alibaba (BABA.US)$")
    assert article.raw() == FUTU_EN.body
    assert article.record()["content_sha256"] == article.content_sha256


def test_readers_work_the_same_on_s3(tmp_path: Path, weed: WeedMini, bucket: str) -> None:
    catalog = Catalog(iter_fixtures())
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror:
        config = discovery_config(tmp_path, mirror)
        text = config.read_text().replace(
            f'location = "{tmp_path / "archive"}"',
            f'location = "s3://{bucket}/news"\naddressing_style = "path"',
        )
        config.write_text(text)
        env = weed.env()
        crawl = newsarchive("--config", str(config), "crawl", env=env)
        assert "run report: runs/" in crawl.stdout, crawl.stderr[-3000:]
    listed = newsarchive("--config", str(config), "ls", "--site", "futu", "--json", env=env)
    ids = {json.loads(line)["id"] for line in listed.stdout.splitlines()}
    assert "41283375-en" in ids and len(ids) == 8  # 7 read by layouts, 1 generic text
    raw = newsarchive("--config", str(config), "show", "41283375-en", "--raw", env=env)
    assert raw.stdout.encode("utf-8") == FUTU_EN.body
    runs = newsarchive("--config", str(config), "runs", "--json", env=env)
    (report,) = [json.loads(x) for x in runs.stdout.splitlines()]
    assert report["sites"]["futu"]["archived"] == 8
    exported = newsarchive("--config", str(config), "export", env=env).stdout.splitlines()
    assert len(exported) == 12
    reparsed = newsarchive("--config", str(config), "reparse", env=env)
    assert reparsed.stdout.splitlines() == ["reparsed 12, new version 0, unchanged 12, failed 0"]
