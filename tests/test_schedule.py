"""`newsarchive schedule`: a real APScheduler with its SQLite job store, crawling the mirror.

Downtime is simulated the way it happens: a scheduler that ran once (and stored its jobs)
is gone while the stored next run time passes, then starts again.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer
from tests.support.commands import REPO, newsarchive, start_newsarchive, user_env
from tests.support.configs import discovery_config

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def listing_mirror() -> Iterator[MirrorServer]:
    catalog = Catalog(iter_fixtures())
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as server:
        yield server


def schedule_config(
    tmp_path: Path, mirror: MirrorServer, cron: str = "0 2 * * *", grace_hours: float = 6
) -> Path:
    crawl = {"lock_dir": str(tmp_path / "locks"), "max_failure_ratio": 0.5}
    config = discovery_config(tmp_path, mirror, crawl=crawl)
    text = (
        config.read_text()
        + f"""
[schedule]
misfire_grace_hours = {grace_hours}
job_timeout_minutes = 5

[[schedule.jobs]]
id = "futu-nightly"
cron = "{cron}"
timezone = "Asia/Shanghai"
sites = ["futu"]
"""
    )
    config.write_text(text)
    return config


def run_reports(tmp_path: Path) -> list[dict]:
    root = tmp_path / "archive" / "runs"
    return [json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))]


def job_store(config: Path) -> Any:
    """The SQLite job store, opened directly: no scheduler thread that could fire the job."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    store = SQLAlchemyJobStore(url=f"sqlite:///{config.parent / 'newsarchive-jobs.sqlite'}")
    store.start(BackgroundScheduler(timezone="UTC"), "default")
    return store


def stored_next_run(config: Path) -> datetime | None:
    store = job_store(config)
    job = store.lookup_job("futu-nightly")
    store.shutdown()
    return job.next_run_time if job else None


def move_next_run(config: Path, when: datetime) -> None:
    """The clock passing while the scheduler is down: the stored fire time is now in the past."""
    store = job_store(config)
    job = store.lookup_job("futu-nightly")
    job._modify(next_run_time=when)
    store.update_job(job)
    store.shutdown()


def run_scheduler(config: Path, until: object, seconds: float = 60) -> str:
    """Start `newsarchive schedule`, wait for `until()` (or the time limit), stop it with
    SIGTERM as systemd would, and return its log."""
    process = start_newsarchive("--config", str(config), "schedule")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():  # type: ignore[operator]
        time.sleep(0.3)
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    return err


def next_shanghai_hour(now: datetime, hour: int = 2) -> datetime:
    """Computed by hand, not by APScheduler: the next 02:00 (or `hour`:00) in Shanghai."""
    local = now.astimezone(SHANGHAI)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return candidate if candidate > local else candidate + timedelta(days=1)


def test_list_prints_next_fire_times_from_the_trigger(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    config = schedule_config(tmp_path, listing_mirror)
    before = datetime.now(UTC)
    result = newsarchive("--config", str(config), "schedule", "--list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("futu-nightly: '0 2 * * *' Asia/Shanghai")
    fire_times = [datetime.fromisoformat(line.strip()) for line in lines[1:4]]
    first = next_shanghai_hour(before)
    assert fire_times == [first, first + timedelta(days=1), first + timedelta(days=2)]
    assert all(t.utcoffset() == timedelta(hours=8) for t in fire_times)


def test_the_scheduler_never_imports_scrapy() -> None:
    code = "import sys, crawler.schedule, crawler.cli; print('scrapy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=user_env(), capture_output=True, text=True
    )
    assert result.stdout.strip() == "False", result.stderr


def test_jobs_persist_and_a_missed_run_is_caught_up_once(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    # every 30 minutes: two hours down misses four fire times, coalesced into one run
    config = schedule_config(tmp_path, listing_mirror, cron="*/30 * * * *")
    log = run_scheduler(config, until=lambda: False, seconds=3)
    stored = stored_next_run(config)
    assert stored is not None and stored > datetime.now(UTC)  # persisted, nothing ran yet
    assert run_reports(tmp_path) == [] and "futu-nightly: next run" in log

    move_next_run(config, datetime.now(UTC) - timedelta(hours=2))
    log = run_scheduler(config, until=lambda: run_reports(tmp_path))
    reports = run_reports(tmp_path)
    assert len(reports) == 1, log[-3000:]
    assert reports[0]["sites"]["futu"]["archived"] >= 1
    assert "job futu-nightly: starting" in log and log.count("job futu-nightly: starting") == 1
    after = stored_next_run(config)
    assert after is not None and after > datetime.now(UTC)


def test_a_run_missed_beyond_the_grace_time_is_reported_not_run(
    tmp_path: Path, listing_mirror: MirrorServer
) -> None:
    # A nightly time half a day away: at 02:00 in Shanghai a "0 2 * * *" job is really due,
    # and a suite running then saw it run.
    hour = (datetime.now(SHANGHAI).hour + 12) % 24
    config = schedule_config(tmp_path, listing_mirror, cron=f"0 {hour} * * *", grace_hours=1)
    run_scheduler(config, until=lambda: False, seconds=3)
    move_next_run(config, datetime.now(UTC) - timedelta(hours=3))
    log = run_scheduler(config, until=lambda: False, seconds=5)
    assert run_reports(tmp_path) == []
    assert "job futu-nightly: run due at" in log and "skipped" in log
    assert stored_next_run(config) == next_shanghai_hour(datetime.now(UTC), hour)


def test_a_scheduled_run_does_not_overlap_a_cron_started_crawl(tmp_path: Path) -> None:
    catalog = Catalog(iter_fixtures(), extra_articles=40)
    with MirrorServer(catalog.routes(), handlers=catalog.handlers(), delay=0.3) as slow:
        config = schedule_config(tmp_path, slow)
        cron_crawl = start_newsarchive("--config", str(config), "crawl", "--site", "futu")
        lock = tmp_path / "locks" / "futu.lock"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and f"pid {cron_crawl.pid}" not in _read(lock):
            time.sleep(0.1)
        once = newsarchive("--config", str(config), "schedule", "--once", "futu-nightly")
        cron_crawl.send_signal(signal.SIGTERM)
        cron_crawl.communicate(timeout=120)
    assert once.returncode == 1, once.stdout + once.stderr[-2000:]
    assert f"futu: skipped, a crawl of futu is already running (pid {cron_crawl.pid}" in once.stdout
    skipped = [r for r in run_reports(tmp_path) if r["skipped_locked"] == ["futu"]]
    assert len(skipped) == 1 and skipped[0]["sites"] == {}  # no spider ran


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
