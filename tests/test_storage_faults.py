"""Where a run writes: checked before any fetch, never dropping what it parsed, and files
that the people sharing the archive can read.

Tests run as root in CI, where permission bits do not stop a write: an unwritable place is
made the way root also fails, a regular file where a folder should be.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer
from tests.support.commands import REPO, newsarchive, start_newsarchive, user_env
from tests.support.configs import discovery_config, records

ARTICLE_URL = "https://news.qq.com/rain/a/20251016A07W8J00"  # current-window-data


def config_with(tmp_path: Path, mirror: MirrorServer, archive: str, spool: str) -> Path:
    config = discovery_config(tmp_path, mirror)
    text = config.read_text(encoding="utf-8")
    text = text.replace(f'location = "{tmp_path / "archive"}"', f'location = "{archive}"')
    text = text.replace(f'spool_dir = "{tmp_path / "spool"}"', f'spool_dir = "{spool}"')
    config.write_text(text, encoding="utf-8")
    return config


def test_an_archive_location_that_is_a_file_is_exit_2_before_any_fetch(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    config = config_with(tmp_path, mirror, str(blocker), str(tmp_path / "spool"))
    before = len(mirror.requests)
    result = newsarchive("--config", str(config), "crawl", "--url", ARTICLE_URL)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"newsarchive: archive folder {blocker} is not writable")
    assert len(mirror.requests) == before


def test_an_unwritable_spool_is_exit_2_before_any_fetch(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = config_with(tmp_path, mirror, str(tmp_path / "archive"), str(blocker / "spool"))
    before = len(mirror.requests)
    result = newsarchive("--config", str(config), "crawl", "--url", ARTICLE_URL)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("newsarchive: setting 'archive.spool_dir': cannot write")
    assert len(mirror.requests) == before


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def s3_down_config(tmp_path: Path, mirror: MirrorServer) -> Path:
    config = config_with(tmp_path, mirror, "s3://news/archive", str(tmp_path / "spool"))
    text = config.read_text(encoding="utf-8").replace(
        "[archive]\n",
        f'[archive]\nendpoint_url = "http://127.0.0.1:{closed_port()}"\n'
        'addressing_style = "path"\nregion = "us-east-1"\nretry_attempts = 1\n',
    )
    config.write_text(text, encoding="utf-8")
    return config


S3_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test-secret"}


def test_an_archive_down_at_start_spools_every_article(tmp_path: Path) -> None:
    catalog = Catalog(iter_fixtures())
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror:
        config = s3_down_config(tmp_path, mirror)
        result = newsarchive("--config", str(config), "crawl", "--site", "tencent", env=S3_ENV)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "WARNING: cannot reach the S3 endpoint" in result.stderr
    listed = [i for i in catalog.items if i.site == "tencent" and i.is_article and i.channel]
    spooled = list((tmp_path / "spool").glob("tencent-*.json"))
    assert len([p for p in spooled if json.loads(p.read_text())["type"] == "article"]) == len(
        listed
    )
    assert result.returncode == 1 and "archive writes pending" in result.stdout


def test_archive_and_spool_both_failing_stops_the_run_and_counts_what_was_not_kept(
    tmp_path: Path,
) -> None:
    catalog = Catalog(iter_fixtures(), extra_articles=60)
    with MirrorServer(catalog.routes(), handlers=catalog.handlers(), delay=0.1) as mirror:
        config = s3_down_config(tmp_path, mirror)
        crawl = start_newsarchive("--config", str(config), "crawl", "--site", "tencent", env=S3_ENV)
        spool = tmp_path / "spool"
        deadline = time.monotonic() + 60
        while len(list(spool.glob("tencent-*.json"))) < 2:
            assert time.monotonic() < deadline and crawl.poll() is None, "crawl did not start"
            time.sleep(0.02)
        shutil.move(spool, tmp_path / "spool-saved")
        spool.write_text("the spool folder is gone")  # now every spool write fails
        stdout, stderr = crawl.communicate(timeout=90)
        requested_at_stop = len(mirror.requests)
    assert crawl.returncode == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    assert "parsed pages NOT KEPT: neither the archive nor the spool" in stdout
    assert "PROBLEM: interrupted: tencent stopped: neither the archive nor the spool" in stdout
    listed = len([i for i in catalog.items if i.site == "tencent"])
    assert requested_at_stop < listed  # stopped at once, not after fetching everything


def test_archive_files_honour_the_umask_and_killed_writers_leave_no_temp_files(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    archive = tmp_path / "archive"
    config = config_with(tmp_path, mirror, str(archive), str(tmp_path / "spool"))
    leftover = archive / ".tmp" / ".tmp-999999999-abc"  # a writer that no longer runs
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "--config",
            str(config),
            "crawl",
            "--url",
            ARTICLE_URL,
        ],
        cwd=REPO,
        env=user_env(None),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o002),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (record,) = records(tmp_path, "tencent")
    assert stat.S_IMODE(record.stat().st_mode) == 0o664
    data = json.loads(record.read_text())
    assert stat.S_IMODE((archive / data["text_key"]).stat().st_mode) == 0o664
    assert not leftover.exists()
    assert not list((archive / ".tmp").iterdir())


FULL_DISK = """
import errno
import os
from pipelines.store import local

_link_new = local._link_new

def link_new(tmp, target):
    if "runs" in target.parts:  # the disk filled up just before the run report
        os.unlink(tmp)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return _link_new(tmp, target)

local._link_new = link_new
"""


@pytest.mark.parametrize("fault", ["full disk", "runs is a file"])
def test_a_run_report_the_archive_cannot_take_is_spooled_then_stored_by_flush(
    tmp_path: Path, mirror: MirrorServer, fault: str
) -> None:
    config = discovery_config(tmp_path, mirror)
    env = None
    runs = tmp_path / "archive" / "runs"
    if fault == "full disk":  # every write to runs/ fails with ENOSPC, in the crawl only
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "sitecustomize.py").write_text(FULL_DISK, encoding="utf-8")
        env = {"PYTHONPATH": f"{tmp_path / 'full'}:{REPO}"}
    else:
        runs.parent.mkdir()
        runs.write_text("a file where the run reports go: every report write fails")
    crawled = newsarchive("--config", str(config), "crawl", "--url", ARTICLE_URL, env=env)
    assert crawled.returncode == 1, crawled.stdout + crawled.stderr
    assert "Traceback" not in crawled.stderr
    (problem,) = [line for line in crawled.stdout.splitlines() if "run report" in line]
    assert problem.startswith("PROBLEM: run report runs/") and problem.endswith(
        "spooled: the next run or `newsarchive flush` stores it"
    ), problem
    if fault == "full disk":
        assert "No space left on device" in problem
    (spooled,) = (tmp_path / "spool").glob("object-runs_*.json")
    if fault != "full disk":
        runs.unlink()  # space again
    flushed = newsarchive("--config", str(config), "flush")
    assert flushed.returncode == 0 and "uploaded 1, still pending 0" in flushed.stdout, (
        flushed.stdout + flushed.stderr
    )
    assert not spooled.exists()
    listed = newsarchive("--config", str(config), "runs")
    (line,) = [line for line in listed.stdout.splitlines() if "  crawl  " in line]
    assert "tencent archived 1" in line, listed.stdout


def test_a_crawl_does_not_count_what_a_running_flush_is_storing(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    from pipelines.spool import CLAIM_PREFIX, Spool

    config = discovery_config(tmp_path, mirror)
    spool = Spool(tmp_path / "spool")
    waiting = spool.add_object("runs/2026/12/01/earlier.json", b"{}", "application/json")
    flush = subprocess.Popen(["sleep", "60"])  # stands for `newsarchive flush`, mid-way
    try:
        waiting.rename(waiting.with_name(f"{CLAIM_PREFIX}{flush.pid}-{waiting.name}"))
        crawled = newsarchive("--config", str(config), "crawl", "--url", ARTICLE_URL)
    finally:
        flush.kill()
        flush.wait()
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    assert "pending uploads 0" in crawled.stdout and "writes pending" not in crawled.stdout
    assert spool.uploads_pending() == 1  # that flush died: the file waits for the next one
