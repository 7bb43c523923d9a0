"""The archival standard: WARC captures as they crossed the wire, killed runs' files closed,
`show --raw` and `reparse` from captures, and the fixity audit (`verify`)."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.mirror.fixtures import FIXTURES_DIR, iter_fixtures, load_fixture
from crawler.mirror.server import MirrorServer, fixture_routes
from tests.support.commands import newsarchive
from tests.support.configs import mirror_config as write_config
from tests.support.s3server import WeedMini
from tests.support.warcs import all_records, record_at, warcio_check

FUTU_EN = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")
TENCENT_NOW = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data")
TENCENT_GBK = load_fixture(FIXTURES_DIR / "tencent" / "gb2312-2016")
URLS = [FUTU_EN.url, TENCENT_NOW.url, TENCENT_GBK.url]
PAGES = Path("pages") / "pages.jsonl"


def crawl(config: Path, *urls: str) -> None:
    args = [a for url in urls for a in ("--url", url)]
    result = newsarchive("--config", str(config), "crawl", *args)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]


def files(root: Path) -> dict[str, Path]:
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".tmp" not in p.parts
    }


def verify(config: Path, *args: str) -> tuple[int, list[dict[str, str]], str]:
    result = newsarchive("--config", str(config), "verify", "--json", *args)
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    return result.returncode, findings, result.stderr


def flip_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_pages_sent_gzip_and_chunked_are_stored_as_served_and_read_back_decoded(
    tmp_path: Path, archive_dir: Path
) -> None:
    routes = fixture_routes(iter_fixtures())
    with MirrorServer(routes, wire_coding=True) as coded:
        config = write_config(tmp_path / "coded.toml", coded, archive_dir)
        crawl(config, FUTU_EN.url)
    (record_key,) = [k for k in files(archive_dir) if k.startswith("articles/")]
    record = json.loads((archive_dir / record_key).read_text())
    capture = record["warc"]
    response = record_at(archive_dir, capture["key"], capture["offset"], capture["length"])
    headers = dict(response.http_headers.headers)
    # The content coding is kept as served; the chunking Twisted undid is not claimed.
    assert headers["Content-Encoding"] == "gzip" and "Transfer-Encoding" not in headers
    with (archive_dir / capture["key"]).open("rb") as handle:
        handle.seek(capture["offset"])
        payload = next(iter(ArchiveIterator(handle))).raw_stream.read()  # as it came
    assert int(headers["Content-Length"]) == len(payload)
    assert gzip.decompress(payload) == FUTU_EN.body
    assert response.body == FUTU_EN.body  # decoded, it is the page the parser read
    check = warcio_check(archive_dir / capture["key"])
    assert check.returncode == 0, check.stdout

    shown = newsarchive("--config", str(config), "show", record["id"], "--raw")
    assert shown.returncode == 0 and shown.stdout.encode() == FUTU_EN.body


def test_show_raw_and_reparse_read_captures_and_old_raw_objects(
    mirror_config: Path, archive_dir: Path
) -> None:
    crawl(mirror_config, FUTU_EN.url, TENCENT_GBK.url)
    gbk_id = "news-20160907003042"
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "--config",
            str(mirror_config),
            "show",
            gbk_id,
            "--raw",
        ],
        capture_output=True,
        timeout=120,
    )
    assert shown.returncode == 0 and shown.stdout == TENCENT_GBK.body  # GBK bytes as served

    # An article archived before WARC capture: its page is a raw/ object.
    with_warc_off = mirror_config.parent / "no-warc.toml"
    with_warc_off.write_text(mirror_config.read_text() + "\n[warc]\nenabled = false\n")
    crawl(with_warc_off, TENCENT_NOW.url)
    stored = files(archive_dir)
    (old_raw,) = [k for k in stored if k.startswith("raw/")]
    old = json.loads(
        stored[old_raw.replace("raw/", "articles/").replace(".html.gz", ".json")].read_text()
    )
    assert old["warc"] is None and old["raw_key"] == old_raw
    shown_old = newsarchive("--config", str(mirror_config), "show", old["id"], "--raw")
    assert shown_old.returncode == 0 and shown_old.stdout.encode() == TENCENT_NOW.body

    reparsed = newsarchive("--config", str(mirror_config), "reparse")
    assert reparsed.returncode == 0, reparsed.stderr
    assert "failed 0" in reparsed.stdout or "failed" not in reparsed.stdout, reparsed.stdout
    assert "unchanged 3" in reparsed.stdout, reparsed.stdout


def test_a_killed_runs_partial_warc_file_is_cut_at_its_last_record_and_stored_by_flush(
    mirror_config: Path, archive_dir: Path, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    # A real SIGKILL mid-write: a child writes whole records, then part of one more.
    child = f"""
import os, sys
from datetime import datetime, UTC
from pipelines.warc import WarcRecorder
recorder = WarcRecorder({str(spool)!r}, "futu", {{"software": "test"}}, 1 << 30)
builder = recorder.builder
for n in range(3):
    page = b"<html>page %d</html>" % n
    record = builder.response(f"https://news.futunn.com/post/{{n}}", "200 OK", "HTTP/1.1",
                              [("Content-Type", "text/html")], page, datetime.now(UTC), None)
    recorder.write([record])
handle = recorder._handle
handle.write(b"\\x1f\\x8b\\x08\\x00 half a gzip member")
handle.flush()
os.kill(os.getpid(), 9)
"""
    killed = subprocess.run([sys.executable, "-c", child], timeout=60)
    assert killed.returncode == -9
    (left,) = (spool / "warc" / "open").iterdir()
    assert left.stat().st_size > 0

    flushed = newsarchive("--config", str(mirror_config), "flush")
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    assert "closed 1 WARC file(s) a killed run left open" in flushed.stdout
    assert "WARC files stored 1, still pending 0" in flushed.stdout
    assert not any((spool / "warc" / "open").iterdir())
    (stored,) = [p for k, p in files(archive_dir).items() if k.endswith(".warc.gz")]
    assert stored.name == left.name
    records = all_records(stored)
    assert [r.rec_type for r in records] == ["warcinfo", "response", "response", "response"]
    assert records[-1].body == b"<html>page 2</html>"
    check = warcio_check(stored)
    assert check.returncode == 0, check.stdout
    assert (stored.parent / stored.name.replace(".warc.gz", ".cdxj")).is_file()


def test_verify_lists_exactly_the_corrupted_and_the_deleted_object_in_a_local_archive(
    mirror_config: Path, archive_dir: Path
) -> None:
    crawl(mirror_config, *URLS)
    status, findings, err = verify(mirror_config)
    assert status == 0 and findings == [], findings
    assert "3 article records" in err and "0 problems" in err
    stored = files(archive_dir)
    (audit_key,) = [k for k in stored if k.startswith("audits/")]
    assert json.loads(stored[audit_key].read_text())["problems"] == 0

    (text_key,) = [k for k in stored if k.startswith("text/futu/")]
    flip_byte(stored[text_key], 5)
    (warc_key,) = [k for k in stored if k.startswith("warc/tencent/") and k.endswith(".warc.gz")]
    stored[warc_key].unlink()
    status, findings, _ = verify(mirror_config)
    assert status == 1
    assert sorted((f["key"], f["problem"]) for f in findings) == sorted(
        [(text_key, "corrupted"), (warc_key, "missing")]
    )


def test_verify_finds_a_flipped_byte_inside_a_warc_file_and_a_deleted_record(
    mirror_config: Path, archive_dir: Path
) -> None:
    crawl(mirror_config, *URLS)
    stored = files(archive_dir)
    (warc_key,) = [k for k in stored if k.startswith("warc/futu/") and k.endswith(".warc.gz")]
    flip_byte(stored[warc_key], stored[warc_key].stat().st_size // 2)
    (record_key,) = [k for k in stored if k.startswith("articles/tencent/2016/")]
    stored[record_key].unlink()
    status, findings, _ = verify(mirror_config, "--site", "futu")
    assert status == 1 and [(f["key"], f["problem"]) for f in findings] == [(warc_key, "corrupted")]
    status, findings, _ = verify(mirror_config)
    assert status == 1
    assert sorted((f["key"], f["problem"]) for f in findings) == sorted(
        [(warc_key, "corrupted"), (record_key, "missing")]
    )


def test_verify_on_s3_lists_exactly_a_corrupted_record_and_a_deleted_index(
    tmp_path: Path, mirror: MirrorServer, weed: WeedMini, bucket: str
) -> None:
    from tests.test_s3_archive import s3_config

    config = s3_config(tmp_path, mirror, bucket)
    env = weed.env()
    result = newsarchive(
        "--config", str(config), "crawl", "--url", FUTU_EN.url, "--url", TENCENT_NOW.url, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    client = weed.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    (record_key,) = [k for k in keys if k.startswith("news/articles/futu/")]
    (cdxj_key,) = [k for k in keys if k.startswith("news/warc/tencent/") and k.endswith(".cdxj")]
    status, findings, _ = verify_env(config, env)
    assert status == 0 and findings == []
    # Fixity with standard tools: `sha256sum` of each text object is its record's field.
    for key in (k for k in keys if k.startswith("news/articles/")):
        record = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        text_key = "news/" + record["text_key"]
        copy = tmp_path / "text.txt"
        copy.write_bytes(client.get_object(Bucket=bucket, Key=text_key)["Body"].read())
        sha256sum = subprocess.run(["sha256sum", str(copy)], capture_output=True, text=True)
        assert sha256sum.stdout.split()[0] == record["content_sha256"], key

    body = bytearray(client.get_object(Bucket=bucket, Key=record_key)["Body"].read())
    body[len(body) // 2] ^= 0x01
    client.put_object(Bucket=bucket, Key=record_key, Body=bytes(body))
    client.delete_object(Bucket=bucket, Key=cdxj_key)
    status, findings, _ = verify_env(config, env)
    assert status == 1
    assert sorted((f["key"], f["problem"]) for f in findings) == sorted(
        [
            (record_key.removeprefix("news/"), "corrupted"),
            (cdxj_key.removeprefix("news/"), "missing"),
        ]
    )


def verify_env(config: Path, env: dict[str, str]) -> tuple[int, list[dict[str, str]], str]:
    result = newsarchive("--config", str(config), "verify", "--json", env=env)
    return result.returncode, [json.loads(x) for x in result.stdout.splitlines()], result.stderr


@pytest.mark.parametrize("argument", [["--since", "yesterday"], ["--site", "nowhere"]])
def test_verify_bad_arguments_exit_2_with_one_line(
    mirror_config: Path, argument: list[str]
) -> None:
    result = newsarchive("--config", str(mirror_config), "verify", *argument)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # argparse: usage + the error


def test_export_wacz_is_a_valid_package_of_the_range_with_every_record_readable(
    mirror_config: Path, archive_dir: Path, tmp_path: Path
) -> None:
    crawl(mirror_config, *URLS)
    # one article kept before WARC capture: exported as a response rebuilt from its record
    old_style = mirror_config.parent / "no-warc.toml"
    old_style.write_text(mirror_config.read_text() + "\n[warc]\nenabled = false\n")
    moomoo = load_fixture(FIXTURES_DIR / "futu" / "moomoo-en-original")
    crawl(old_style, moomoo.url)

    package = tmp_path / "news.wacz"
    result = newsarchive(
        "--config", str(mirror_config), "export", "--format", "wacz", "-o", str(package)
    )
    assert result.returncode == 0, result.stderr
    assert "exported 4 articles" in result.stderr and "1 rebuilt" in result.stderr
    validated = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(package)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "Validation succeeded" in validated.stdout

    extracted = tmp_path / "extracted"
    with zipfile.ZipFile(package) as wacz:
        names = set(wacz.namelist())
        assert wacz.getinfo("archive/data.warc.gz").compress_type == zipfile.ZIP_STORED
        wacz.extractall(extracted)
    assert names == {
        "archive/data.warc.gz",
        "indexes/index.cdx",
        "pages/pages.jsonl",
        "datapackage.json",
        "datapackage-digest.json",
    }
    package_json = json.loads((extracted / "datapackage.json").read_text())
    assert package_json["wacz_version"] == "1.1.1"
    for resource in package_json["resources"]:
        data = (extracted / resource["path"]).read_bytes()
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()

    warc = extracted / "archive" / "data.warc.gz"
    check = warcio_check(warc)
    assert check.returncode == 0, check.stdout
    records = all_records(warc)
    responses = {
        r.rec_headers.get_header("WARC-Target-URI"): r for r in records if r.rec_type == "response"
    }
    pages = [json.loads(line) for line in (extracted / PAGES).read_text().splitlines()]
    assert pages[0]["format"] == "json-pages-1.0"
    by_id = {p["id"]: p for p in pages[1:]}
    assert len(by_id) == 4
    for fixture in (FUTU_EN, TENCENT_NOW, TENCENT_GBK, moomoo):
        article = fixture.expected()["article"]
        page = by_id[f"{article['site']}/{article['id']}"]
        assert page["title"] == article["title"] and page["text"] == article["text"]
        assert responses[page["url"]].body == fixture.body  # replayable as it was served
    requests = [r for r in records if r.rec_type == "request"]
    assert len(requests) == 3  # the three captured exchanges keep their requests
    index = (extracted / "indexes" / "index.cdx").read_text().splitlines()
    assert len([line for line in index if '"status": "200"' in line]) == 4

    only_futu = tmp_path / "futu.wacz"
    result = newsarchive(
        "--config",
        str(mirror_config),
        "export",
        "--format",
        "wacz",
        "--site",
        "futu",
        "--until",
        "2024-12-31",
        "-o",
        str(only_futu),
    )
    assert result.returncode == 0 and "exported 1 article" in result.stderr, result.stderr


def test_export_wacz_without_an_output_file_is_a_usage_error(mirror_config: Path) -> None:
    result = newsarchive("--config", str(mirror_config), "export", "--format", "wacz")
    assert result.returncode == 2
    assert result.stderr.strip() == "newsarchive: export --format wacz needs -o FILE.wacz"


def test_warc_files_rotate_at_the_configured_size_and_every_capture_names_its_file(
    mirror_config: Path, archive_dir: Path
) -> None:
    small = mirror_config.parent / "small-warc.toml"
    small.write_text(mirror_config.read_text() + "\n[warc]\nrotate_mib = 0.001\n")  # ~1 KiB
    crawl(small, *URLS)
    stored = files(archive_dir)
    tencent = sorted(k for k in stored if k.startswith("warc/tencent/") and k.endswith(".gz"))
    assert len(tencent) >= 2  # robots.txt and two articles: past 1 KiB after each exchange
    for key in tencent:
        records = all_records(stored[key])
        assert records[0].rec_type == "warcinfo" and len(records) > 1
        assert key.removesuffix(".warc.gz") + ".cdxj" in stored
    check = warcio_check(*(stored[k] for k in tencent))
    assert check.returncode == 0, check.stdout
    for record_key in [k for k in stored if k.startswith("articles/tencent/")]:
        capture = json.loads(stored[record_key].read_text())["warc"]
        found = record_at(archive_dir, capture["key"], capture["offset"], capture["length"])
        assert found.rec_headers.get_header("WARC-Record-ID") == capture["record_id"]
    status, findings, _ = verify(small)
    assert status == 0 and findings == []


def test_verify_lists_a_per_day_index_segment_with_a_damaged_line(
    mirror_config: Path, archive_dir: Path
) -> None:
    crawl(mirror_config, FUTU_EN.url)
    (segment,) = [p for k, p in files(archive_dir).items() if k.startswith("daily/")]
    segment.write_text(segment.read_text() + '{"id": "half a line\n')
    status, findings, _ = verify(mirror_config)
    assert status == 1
    assert [(f["key"], f["problem"]) for f in findings] == [
        (segment.relative_to(archive_dir).as_posix(), "corrupted")
    ]
