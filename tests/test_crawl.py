"""Real Scrapy crawls of the local mirror into a local archive, checked file by file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer
from tests.support.commands import REPO, newsarchive, scrapy, user_env
from tests.support.warcs import all_records, record_at, warcio_check

FUTU_EN = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")
TENCENT_NOW = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data")
TENCENT_GBK = load_fixture(FIXTURES_DIR / "tencent" / "gb2312-2016")
TENCENT_VIDEO = load_fixture(FIXTURES_DIR / "tencent" / "video")
TENCENT_HEADLINE = load_fixture(FIXTURES_DIR / "tencent" / "headline-only")
FUTU_WAF = load_fixture(FIXTURES_DIR / "futu" / "waf-challenge")


def files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def test_scrapy_crawl_futu_url_archives_record_text_and_warc_capture(
    mirror_config: Path, archive_dir: Path, mirror: MirrorServer
) -> None:
    result = scrapy(
        "crawl", "futu", "-a", f"url={FUTU_EN.url}", "-s", f"NEWSARCHIVE_CONFIG={mirror_config}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stored = files(archive_dir)
    stem = "futu/2024/05/08/41283375-en"
    (segment,) = [key for key in stored if key.startswith("daily/")]
    (report_key,) = [key for key in stored if key.startswith("runs/")]
    (outcomes,) = [key for key in stored if key.startswith("state/futu/log/")]
    (warc_key,) = [key for key in stored if key.endswith(".warc.gz")]
    (catalog_file,) = [key for key in stored if key.endswith(".parquet")]
    assert catalog_file.startswith("catalog/site=futu/month=2024-05/")
    assert set(stored) == {
        "catalog/_delta_log/00000000000000000000.json",  # the catalog made
        "catalog/_delta_log/00000000000000000001.json",  # and the run's commit of its row
        catalog_file,
        f"articles/{stem}.json",
        f"text/{stem}.txt",
        "index/futu/41283375-en.json",
        segment,
        report_key,
        outcomes,
        warc_key,
        warc_key.removesuffix(".warc.gz") + ".cdxj",  # no raw/ copy: the WARC holds the page
    }
    assert warc_key.startswith("warc/futu/") and "/newsarchive-futu-" in warc_key
    (fetched,) = [json.loads(x) for x in stored[outcomes].read_text().splitlines()]
    assert (fetched["url"], fetched["id"], fetched["outcome"]) == (
        "https://news.futunn.com/en/post/41283375",
        "41283375-en",
        "parsed",
    )
    report = json.loads(stored[report_key].read_text())  # `scrapy crawl` reports its run too
    assert report["command"] == "scrapy crawl" and report["exit_status"] == 0
    assert report["mode"] == "urls" and report["sites"]["futu"]["archived"] == 1
    assert segment.startswith("daily/futu/2024/05/08/") and segment.endswith(".jsonl")
    (line,) = stored[segment].read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["record_key"] == f"articles/{stem}.json"
    index = json.loads(stored["index/futu/41283375-en.json"].read_text())
    assert index["record_key"] == f"articles/{stem}.json"

    record = json.loads(stored[f"articles/{stem}.json"].read_text(encoding="utf-8"))
    expected = FUTU_EN.expected()["article"]
    for field, value in expected.items():
        assert record[field] == value, field
    assert record["source_url"] == FUTU_EN.url
    assert record["fetched_url"] == f"{mirror.url}/news.futunn.com/en/post/41283375"
    assert record["http_status"] == 200
    assert record["http_headers"]["Content-Type"] == "text/html; charset=utf-8"
    # The text object is exactly what content_sha256 hashes: standard tools check it.
    text_object = stored[f"text/{stem}.txt"]
    assert text_object.read_text(encoding="utf-8") == expected["text"]
    sha256sum = subprocess.run(["sha256sum", str(text_object)], capture_output=True, text=True)
    assert sha256sum.stdout.split()[0] == record["content_sha256"]
    capture = record["warc"]
    assert record["raw_key"] is None and capture["key"] == warc_key
    response = record_at(archive_dir, warc_key, capture["offset"], capture["length"])
    assert response.rec_type == "response"
    assert response.rec_headers.get_header("WARC-Record-ID") == capture["record_id"]
    assert response.rec_headers.get_header("WARC-Target-URI") == record["fetched_url"]
    assert response.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert response.http_headers.get_statuscode() == "200"
    assert response.body == FUTU_EN.body
    ((_, request_offset, request_length),) = capture["related"]
    request = record_at(archive_dir, warc_key, request_offset, request_length)
    assert request.rec_type == "request"
    assert request.rec_headers.get_header("WARC-Concurrent-To") == capture["record_id"]
    assert request.http_headers.protocol == "GET"  # warcio keeps the method as "protocol"

    records = all_records(stored[warc_key])
    assert records[0].rec_type == "warcinfo"  # first, then every exchange of the run
    info = records[0].body.decode()
    assert "robots: obey" in info and "http-header-user-agent: " in info
    fetched_urls = {r.rec_headers.get_header("WARC-Target-URI") for r in records[1:]}
    assert f"{mirror.url}/robots.txt" in fetched_urls  # robots.txt is an exchange too
    check = warcio_check(stored[warc_key])
    assert check.returncode == 0, check.stdout + check.stderr
    cdxj = stored[warc_key.removesuffix(".warc.gz") + ".cdxj"].read_text()
    assert f'"offset": "{capture["offset"]}"' in cdxj


def test_tencent_urls_file_keeps_rejected_pages_raw_and_counts_them(
    mirror_config: Path, archive_dir: Path, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "\n".join(
            [
                "# manual backfill",
                TENCENT_NOW.url,
                TENCENT_GBK.url,
                TENCENT_VIDEO.url,
                TENCENT_HEADLINE.url,
            ]
        ),
        encoding="utf-8",
    )
    result = scrapy(
        "crawl", "tencent", "-a", f"urls_file={urls}", "-s", f"NEWSARCHIVE_CONFIG={mirror_config}"
    )
    # 1 of 4 pages failed to parse, above crawl.max_failure_ratio: the run's own status.
    assert result.returncode == 1, result.stderr[-3000:]
    assert "'newsarchive/archive/archived': 2" in result.stderr
    assert "'newsarchive/outcome/not_article': 1" in result.stderr
    assert "'newsarchive/outcome/parse_error': 1" in result.stderr
    assert TENCENT_HEADLINE.url in result.stderr  # the failure is logged with its URL

    stored = files(archive_dir)
    gbk_text = stored["text/tencent/2016/09/07/news-20160907003042.txt"].read_text(encoding="utf-8")
    assert "镕、喆、堃" in gbk_text
    gbk = json.loads(stored["articles/tencent/2016/09/07/news-20160907003042.json"].read_text())
    page = record_at(archive_dir, **_place(gbk["warc"]))
    assert page.body == TENCENT_GBK.body  # still GBK bytes, never re-encoded

    rejected = {k: v for k, v in stored.items() if k.startswith("rejected/")}
    records = [json.loads(p.read_text()) for k, p in rejected.items() if k.endswith(".json")]
    assert sorted((r["reason"], r["source_url"]) for r in records) == sorted(
        [("not_article", TENCENT_VIDEO.url), ("parse_error", TENCENT_HEADLINE.url)]
    )
    failed = next(r for r in records if r["reason"] == "parse_error")
    assert failed["field"] == "body"
    assert failed["raw_key"] is None  # its capture is in the run's WARC file
    assert record_at(archive_dir, **_place(failed["warc"])).body == TENCENT_HEADLINE.body
    (warc_file,) = [p for k, p in stored.items() if k.endswith(".warc.gz")]
    check = warcio_check(warc_file)
    assert check.returncode == 0, check.stdout + check.stderr


def _place(capture: dict[str, object]) -> dict[str, object]:
    return {k: capture[k] for k in ("key", "offset", "length")}


def test_challenge_page_is_reported_blocked_and_kept(
    mirror_config: Path, archive_dir: Path
) -> None:
    result = newsarchive("--config", str(mirror_config), "crawl", "--url", FUTU_WAF.url)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "blocked 1" in result.stdout and "parse errors 0" in result.stdout
    stored = files(archive_dir)
    assert not any(k.startswith("articles/") for k in stored)
    (record_key,) = [k for k in stored if k.startswith("rejected/") and k.endswith(".json")]
    assert json.loads(stored[record_key].read_text())["reason"] == "blocked"


def test_newsarchive_crawl_twice_writes_nothing_the_second_time(
    mirror_config: Path, archive_dir: Path
) -> None:
    args = ["--config", str(mirror_config), "crawl", "--url", FUTU_EN.url, "--url", TENCENT_NOW.url]
    first = newsarchive(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "archived 1" in first.stdout
    before = {k: p.stat().st_mtime_ns for k, p in files(archive_dir).items()}
    # 2 articles x (record, text, index, per-day index segment) + the run report, + each
    # site's fetch-outcome log segment and WARC file with its CDXJ index, + the catalog: its
    # creation and each site's commit with its Parquet file
    bookkeeping = ("runs/", "state/futu/log/", "state/tencent/log/", "warc/")
    catalog = [k for k in before if k.startswith("catalog/")]
    assert len(catalog) == 5 and sum(k.endswith(".parquet") for k in catalog) == 2
    assert len(before) == 20 and sum(k.startswith("runs/") for k in before) == 1
    assert sum(k.startswith(bookkeeping[1:3]) for k in before) == 2
    assert sum(k.endswith(".warc.gz") for k in before) == 2

    second = newsarchive(*args)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "archived 0" in second.stdout and "unchanged 1" in second.stdout
    after = {k: p.stat().st_mtime_ns for k, p in files(archive_dir).items()}
    new = set(after) - set(before)
    # only the second run's report, its outcome logs and its captures: no article object
    assert len(new) == 7 and all(k.startswith(bookkeeping) for k in new)
    assert sum(k.startswith("runs/") for k in new) == 1
    assert {k: v for k, v in after.items() if k not in new} == before
    # The unchanged pages were captured as revisits of the first captures, without a body.
    records = {}
    for key in sorted(k for k in new if k.endswith(".warc.gz")):
        for record in all_records(archive_dir / key):
            if record.rec_type != "request":
                records[record.rec_headers.get_header("WARC-Target-URI")] = record
    firsts = [
        json.loads((archive_dir / k).read_text()) for k in before if k.startswith("articles/")
    ]
    for article in firsts:
        revisit = records[article["fetched_url"]]
        assert revisit.rec_type == "revisit"
        assert revisit.rec_headers.get_header("WARC-Refers-To") == article["warc"]["record_id"]
        assert (
            revisit.rec_headers.get_header("WARC-Payload-Digest")
            == (article["warc"]["payload_digest"])
        )
        assert revisit.body == b""
        check = warcio_check(archive_dir / revisit_key(new, article["site"]))
        assert check.returncode == 0, check.stdout + check.stderr


def revisit_key(keys: set[str], site: str) -> str:
    (key,) = [k for k in keys if k.startswith(f"warc/{site}/") and k.endswith(".warc.gz")]
    return key


def test_log_file_option_takes_the_crawl_log(
    mirror_config: Path, archive_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "crawl.log"
    result = newsarchive(
        "--config", str(mirror_config), "crawl", "--url", TENCENT_NOW.url, "--log-file", str(log)
    )
    assert result.returncode == 0
    assert "Spider closed (finished)" in log.read_text()
    assert "Spider closed" not in result.stderr


def test_log_file_in_a_folder_that_does_not_exist_yet(
    mirror_config: Path, archive_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "logs" / "tencent.log"  # the README's cron line, on a fresh machine
    result = newsarchive(
        "--config", str(mirror_config), "crawl", "--url", TENCENT_NOW.url, "--log-file", str(log)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Spider closed (finished)" in log.read_text()
    (tmp_path / "taken").write_text("a file, not a folder")
    blocked = newsarchive(
        "--config",
        str(mirror_config),
        "crawl",
        "--url",
        TENCENT_NOW.url,
        "--log-file",
        str(tmp_path / "taken" / "x.log"),
    )
    assert blocked.returncode == 2
    assert (
        blocked.stderr.startswith("newsarchive: --log-file ") and "Traceback" not in blocked.stderr
    )


def test_url_of_another_site_is_refused_by_the_spider(mirror_config: Path) -> None:
    result = scrapy(
        "crawl", "futu", "-a", f"url={TENCENT_NOW.url}", "-s", f"NEWSARCHIVE_CONFIG={mirror_config}"
    )
    assert "Not a futu article URL" in result.stderr
    assert "'newsarchive/unsupported_url': 1" in result.stderr


def test_unsupported_url_makes_crawl_exit_1(mirror_config: Path) -> None:
    result = newsarchive(
        "--config", str(mirror_config), "crawl", "--url", "https://example.com/a/1"
    )
    assert result.returncode == 1
    assert "not a Futu or Tencent article URL: https://example.com/a/1" in result.stdout


def test_demo_archives_the_mirror_then_finds_what_the_site_changed(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    archive = tmp_path / "demo-archive"
    config = tmp_path / "demo.toml"
    config.write_text(
        f'[archive]\nlocation = "{archive}"\nspool_dir = "{tmp_path / "spool"}"\n'
        f'[crawl]\nlock_dir = "{tmp_path / "locks"}"\n',
        encoding="utf-8",
    )
    first = newsarchive("--config", str(config), "demo")
    assert first.returncode == 0, first.stderr[-3000:]
    futu, tencent = (line for line in first.stdout.splitlines() if ": discovered " in line)
    assert "fetched 10, parsed 7, archived 8" in futu and "layout unknown 1" in futu
    assert "fetched 8, parsed 4, archived 4" in tencent
    assert "$ newsarchive ls   (newest 5 of 12)" in first.stdout
    assert len(list((archive / "articles").rglob("*.json"))) == 12
    # It says which pages fail on purpose, and why; shows one clean article; says what next.
    assert "serves pages that must not become articles, on purpose:" in first.stdout
    assert "futu/waf-challenge: Futu's JavaScript challenge" in first.stdout
    assert "https://news.futunn.com/en/post/79436146 (on purpose)" in first.stdout
    assert "$ newsarchive show 76365874-zh-HK" in first.stdout
    assert "報告指出，持牌消費金融公司的資產質量在過去一年持續改善" in first.stdout
    assert "\nNext:\n  newsarchive ls" in first.stdout
    assert "PROBLEM:" not in first.stdout
    # The second run: the mirror edited one article and deleted another, as sites do, and
    # the demo's revisit policy makes every archived article due.
    second = newsarchive("--config", str(config), "demo")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "PROBLEM:" not in second.stdout
    assert "archived 0" in second.stdout  # nothing new listed
    futu_revisits = next(x for x in second.stdout.splitlines() if x.startswith("futu: revisited"))
    assert "changed 1" in futu_revisits
    tencent_revisits = next(
        x for x in second.stdout.splitlines() if x.startswith("tencent: revisited")
    )
    assert "removed 1" in tencent_revisits
    assert "edited:  newsarchive diff 62202518-zh-CN" in second.stdout
    assert "removed: newsarchive show 20251016A07W8J00" in second.stdout
    assert "20251016A07W8J00  9月CPI" in second.stdout and "[removed]" in second.stdout
    diff = newsarchive("--config", str(config), "diff", "62202518-zh-CN")
    assert "这款PPU芯片配备[-96-]{+128+}GB HBM2e显存" in diff.stdout, diff.stderr  # by character


def test_a_crawl_prints_its_summary_not_scrapys_start_up_dump(
    mirror_config: Path, archive_dir: Path
) -> None:
    result = newsarchive("--config", str(mirror_config), "crawl", "--url", TENCENT_NOW.url)
    assert result.returncode == 0, result.stderr[-3000:]
    for dump in ("Versions:", "Overridden settings", "Enabled extensions", "Dumping Scrapy stats"):
        assert dump not in result.stderr
    assert "Deprecat" not in result.stderr
    assert len(result.stderr.splitlines()) < 10, result.stderr


def test_no_spider_callback_is_a_generator_that_returns_a_value() -> None:
    """What Scrapy's WARN_ON_GENERATOR_RETURN_VALUE checked on every response (parsing the
    callback's source each time), checked once here for every spider method instead."""
    import inspect

    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.misc import is_generator_with_return_value
    from scrapy.utils.project import get_project_settings

    loader = SpiderLoader.from_settings(get_project_settings())
    checked = 0
    for name in loader.list():
        spider = loader.load(name)
        for attribute, method in inspect.getmembers(spider, inspect.isfunction):
            if inspect.isgeneratorfunction(method) or inspect.isasyncgenfunction(method):
                assert not is_generator_with_return_value(method), f"{name}.{attribute}"
                checked += 1
    assert checked >= 6  # parse_article, fetch_failed, render_failed, the listing callbacks


def test_a_crawl_parses_no_callback_source_per_response(
    mirror_config: Path, tmp_path: Path
) -> None:
    import pstats

    profile = tmp_path / "crawl.prof"
    urls = [
        x
        for case in ("current-window-data", "gb2312-2016", "video")
        for x in ("--url", load_fixture(FIXTURES_DIR / "tencent" / case).url)
    ]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(profile),
            "-m",
            "crawler.cli",
            "--config",
            str(mirror_config),
            "crawl",
            *urls,
        ],
        cwd=REPO,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    called = {key[2] for key in pstats.Stats(str(profile)).stats}  # type: ignore[attr-defined]
    assert "parse_article" in called  # the profile saw the callbacks run
    assert "is_generator_with_return_value" not in called
