"""Bad input gets one clear line and the documented exit status, never a traceback."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from crawler.mirror.fixtures import FIXTURES_DIR
from crawler.mirror.server import MirrorServer, Route, mirror_path
from tests.support.commands import newsarchive
from tests.support.configs import mirror_config

ARTICLE_URL = "https://news.qq.com/rain/a/20251016A07W8J00"
FIXTURE = FIXTURES_DIR / "tencent" / "current-window-data"


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (b"[crawl]\ndownload_delay = -1\n", "setting 'crawl.download_delay' must be at least 0"),
        (b"[crawl]\ndownload_timeout = 0\n", "setting 'crawl.download_timeout' must be at least 1"),
        (b"[crawl]\nrender_timeout = -5\n", "setting 'crawl.render_timeout' must be at least 1"),
        (b"[retry]\nmax_attempts = 0\n", "setting 'retry.max_attempts' must be at least 1"),
        (b'[crawl]\nuser_agent = "\xff\xfe"\n', "cannot read the config"),
    ],
)
def test_bad_settings_exit_2_with_one_line(tmp_path: Path, toml: bytes, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_bytes(toml)
    result = newsarchive("--config", str(config), "ls")
    assert result.returncode == 2
    assert message in one_line(result.stderr)


def test_credentials_inside_the_archive_location_are_refused_and_never_echoed() -> None:
    env = {"NEWSARCHIVE_ARCHIVE": "s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/prefix"}
    result = newsarchive("ls", env=env)
    assert result.returncode == 2
    assert "must not carry credentials" in one_line(result.stderr)
    assert "wJalrXUtnFEMI" not in result.stderr + result.stdout


def test_parse_of_an_empty_file_is_a_parse_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = newsarchive("parse", str(empty), "--url", ARTICLE_URL)
    assert result.returncode == 1
    assert one_line(result.stderr).startswith("newsarchive: parse_error: cannot extract 'body'")


def test_a_binary_urls_file_is_exit_2(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_bytes(b"\xff\xfe\x00\x01binary")
    result = newsarchive("crawl", "--urls-file", str(urls))
    assert result.returncode == 2
    assert "is not a UTF-8 text file of URLs" in one_line(result.stderr)


def test_mirror_on_a_busy_port_is_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = newsarchive("mirror", "--port", str(port))
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1:" in one_line(result.stderr)


def test_runs_limit_must_be_at_least_1() -> None:
    result = newsarchive("runs", "--limit", "0")
    assert result.returncode == 2 and "must be at least 1" in result.stderr


def test_one_damaged_index_line_does_not_break_ls(
    tmp_path: Path, mirror: MirrorServer, archive_dir: Path
) -> None:
    config = mirror_config(tmp_path / "c.toml", mirror, archive_dir)
    assert newsarchive("--config", str(config), "crawl", "--url", ARTICLE_URL).returncode == 0
    (segment,) = (archive_dir / "daily").rglob("*.jsonl")
    segment.write_bytes(segment.read_bytes() + b'{"id": "broken\n')
    shutil.rmtree(archive_dir / "catalog")  # an archive from before the catalog: ls reads the days
    result = newsarchive("--config", str(config), "ls")
    assert result.returncode == 0, result.stderr
    assert "20251016A07W8J00" in result.stdout
    assert "Traceback" not in result.stderr
    assert f"{segment.relative_to(archive_dir)} line 2 is not a JSON object: skipped" in (
        result.stderr
    )
    assert "has no catalog yet" in result.stderr and "catalog rebuild" in result.stderr


def test_parse_says_when_it_reads_a_meta_json_and_takes_headers_from_a_named_file(
    tmp_path: Path,
) -> None:
    result = newsarchive("parse", str(FIXTURE / "page.html"))
    assert result.returncode == 0
    assert "reading the URL and headers in" in one_line(result.stderr)
    page = tmp_path / "page.html"
    page.write_bytes((FIXTURE / "page.html").read_bytes())
    headers = tmp_path / "saved.json"
    headers.write_text((FIXTURE / "meta.json").read_text())
    named = newsarchive("parse", str(page), "--headers", str(headers))
    assert named.returncode == 0 and named.stderr == ""
    assert json.loads(named.stdout)["id"] == "20251016A07W8J00"


def test_parse_url_does_not_follow_a_redirect_off_site(tmp_path: Path) -> None:
    path = mirror_path(ARTICLE_URL)
    with MirrorServer({path: Route(302, {"Location": "http://localhost:1/elsewhere"}, b"")}) as m:
        config = mirror_config(tmp_path / "c.toml", m, tmp_path / "archive")
        result = newsarchive("--config", str(config), "parse", "--url", ARTICLE_URL)
    assert result.returncode == 2
    assert "redirects off-site to http://localhost:1/elsewhere: not followed" in one_line(
        result.stderr
    )
