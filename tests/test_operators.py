"""What the people who run newsarchive meet first: its version, the hints it prints."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.cli import build_parser
from crawler.commands.demo import NEXT_STEPS
from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer
from tests.support.commands import REPO, newsarchive, scrapy
from tests.support.configs import discovery_config
from tests.support.s3server import free_ports
from tests.support.warcs import all_records


def test_version_is_the_one_warc_files_and_run_reports_name(
    mirror_config: Path, archive_dir: Path
) -> None:
    printed = newsarchive("--version")
    assert printed.returncode == 0, printed.stderr
    version = printed.stdout.strip()
    assert version.startswith("newsarchive ") and version != "newsarchive unknown", version
    url = load_fixture(FIXTURES_DIR / "futu" / "zh-cn-post").url
    crawled = newsarchive("--config", str(mirror_config), "crawl", "--url", url)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    (report,) = (archive_dir / "runs").rglob("*.json")
    assert json.loads(report.read_text(encoding="utf-8"))["software"] == version
    (warc,) = (archive_dir / "warc").rglob("*.warc.gz")
    info = next(r for r in all_records(warc) if r.rec_type == "warcinfo")
    fields = info.body.decode("utf-8")
    number = version.split()[1]
    assert f"software: newsarchive/{number} " in fields, fields


@pytest.mark.parametrize(
    "hint", [line for line in NEXT_STEPS.splitlines() if "newsarchive" in line]
)
def test_every_command_the_demo_suggests_is_one_the_cli_accepts(hint: str) -> None:
    words = shlex.split(hint.split("  ")[1] if hint.startswith("  ") else hint)
    assert words[0] == "newsarchive"
    build_parser().parse_args(words[1:])  # a usage error exits 2 (SystemExit): the test fails


def noise(stderr: str) -> list[str]:
    """Log lines a person could not act on, or would have to scroll through."""
    return [
        line
        for line in stderr.splitlines()
        if "Traceback" in line or "] DEBUG:" in line or "Disabled " in line
    ]


def test_an_ordinary_crawl_logs_no_warning_debug_line_or_traceback(mirror_config: Path) -> None:
    url = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data").url
    result = newsarchive("--config", str(mirror_config), "crawl", "--url", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert noise(result.stderr) == []
    assert not [line for line in result.stderr.splitlines() if "WARNING" in line], result.stderr


def test_an_unreachable_robots_txt_is_one_warning_line_per_host(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    closed = f"http://127.0.0.1:{free_ports(1)[0]}"  # nothing listens: connection refused
    config = discovery_config(
        tmp_path,
        mirror,
        crawl={"retry_times": 0},
        tencent={"base_url": closed, "api_base_url": closed, "hot_base_url": closed},
    )
    result = newsarchive("--config", str(config), "crawl", "--site", "tencent")
    assert result.returncode == 1, result.stdout + result.stderr
    assert noise(result.stderr) == [], result.stderr
    robots = [line for line in result.stderr.splitlines() if "robots.txt" in line]
    assert len(robots) == 1, robots  # one host for all three settings
    assert "WARNING: robots.txt of 127.0.0.1:" in robots[0]
    assert "PROBLEM: tencent: discovery broken" in result.stdout


def test_a_page_that_stays_blocked_under_render_is_one_line(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    """The session mirror serves the challenge whatever Chromium does: the render times out."""
    waf = load_fixture(FIXTURES_DIR / "futu" / "waf-challenge")
    config = discovery_config(tmp_path, mirror, crawl={"render_timeout": 3})
    result = newsarchive("--config", str(config), "crawl", "--render", "--url", waf.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert noise(result.stderr) == [], result.stderr
    about = [line for line in result.stderr.splitlines() if "79436146" in line]
    assert len(about) == 2, about  # "rendering it in Chromium", then "blocked: ..."
    assert "INFO: challenge at" in about[0] and "WARNING: blocked:" in about[1]


def test_scrapy_crawl_exits_with_the_runs_own_status(
    tmp_path: Path, mirror: MirrorServer, mirror_config: Path
) -> None:
    url = load_fixture(FIXTURES_DIR / "futu" / "zh-cn-post").url
    clean = scrapy(
        "crawl",
        "futu",
        "-a",
        f"url={url}",
        "-s",
        f"NEWSARCHIVE_CONFIG={mirror_config}",
        "-s",
        "LOG_LEVEL=INFO",  # Scrapy's options keep working
    )
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert "run report: runs/" in clean.stderr
    closed = f"http://127.0.0.1:{free_ports(1)[0]}"
    broken = discovery_config(
        tmp_path,
        mirror,
        crawl={"retry_times": 0},
        tencent={"api_base_url": closed, "hot_base_url": closed},
    )
    failed = scrapy("crawl", "tencent", "-s", f"NEWSARCHIVE_CONFIG={broken}")
    assert failed.returncode == 1, failed.stderr[-3000:]
    reports = [
        json.loads(p.read_text("utf-8")) for p in (tmp_path / "archive").rglob("runs/**/*.json")
    ]
    (report,) = [r for r in reports if "tencent" in r["sites"]]
    assert report["exit_status"] == 1 and report["command"] == "scrapy crawl"
    (tmp_path / "bad.toml").write_text("[crawl]\ndownload_delay = -1\n", encoding="utf-8")
    usage = scrapy("crawl", "tencent", "-s", f"NEWSARCHIVE_CONFIG={tmp_path / 'bad.toml'}")
    assert usage.returncode == 2, usage.stderr[-3000:]


def test_json_logs_are_one_object_per_line_with_the_run_and_the_page(
    tmp_path: Path, mirror: MirrorServer, archive_dir: Path, mirror_config: Path
) -> None:
    good = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data").url
    unparsable = "https://news.qq.com/rain/a/20240425A01ZZ100"  # a sample page that fails
    log = tmp_path / "logs" / "crawl.log"
    result = newsarchive(
        "--config",
        str(mirror_config),
        "--log-format",
        "json",
        "crawl",
        "--url",
        good,
        "--url",
        unparsable,
        "--log-file",
        str(log),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(e) for e in lines)
    (report,) = [json.loads(p.read_text("utf-8")) for p in (archive_dir / "runs").rglob("*.json")]
    assert {e["run_id"] for e in lines} == {report["run_id"]}
    (page,) = [e for e in lines if e.get("outcome") == "parse_error"]
    assert page["site"] == "tencent" and page["url"] == unparsable and page["level"] == "WARNING"
    problems = [e for e in lines if e.get("problem")]
    assert [e["message"] for e in problems] == [f"PROBLEM: {p}" for p in report["problems"]]
    assert problems and all(e["level"] == "ERROR" for e in problems)


def test_the_readmes_systemd_units_verify(tmp_path: Path) -> None:
    """The units docs/operating.md installs, with this machine's paths for /srv/newsarchive."""
    readme = (REPO / "docs" / "operating.md").read_text(encoding="utf-8")
    newsarchive_path = Path(sys.executable).parent / "newsarchive"
    assert newsarchive_path.is_file()
    units = []
    for name in ("newsarchive-crawl.service", "newsarchive-crawl.timer"):
        assert f"config/systemd/{name}" in readme
        text = (REPO / "config" / "systemd" / name).read_text(encoding="utf-8")
        text = text.replace("/srv/newsarchive/.venv/bin/newsarchive", str(newsarchive_path))
        text = text.replace("/srv/newsarchive", str(tmp_path))
        (tmp_path / name).write_text(text, encoding="utf-8")
        units.append(str(tmp_path / name))
    timer = (tmp_path / "newsarchive-crawl.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* 02:00:00 Asia/Shanghai" in timer and "Persistent=true" in timer
    verified = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout + verified.stderr == "", verified.stderr  # no unknown key, no warning
