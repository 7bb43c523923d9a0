"""Stop signals at any moment of a crawl: the run always ends on record as interrupted.

(From the CLI's first statement, which holds the signals: see wait_for_its_handler.)

One, two and three signals (SIGTERM, then SIGINT, then SIGTERM again, as a supervisor that
signals again or a person pressing Ctrl-C twice would send them) at every quarter second of
the first five seconds of a crawl: start-up, imports, Scrapy building its crawlers, the
listings, and the middle of the crawl. Each run must exit 1 with the PROBLEM line, store its
report, publish the outcome log of every site that fetched anything, and print no traceback.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer
from tests.support.commands import start_newsarchive
from tests.support.configs import discovery_config

MOMENTS = [round(0.25 * n, 2) for n in range(1, 21)]  # 0.25 s ... 5 s after the start
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGTERM)
SIGNAL_GAP = 0.3  # seconds between two signals of one run
AT_ONCE = 4  # crawls run side by side (each waits on the slow mirror most of the time)


@pytest.fixture(scope="module")
def slow_mirror() -> Iterator[MirrorServer]:
    """Enough articles, served slowly enough, that a crawl is still running after 5 s and
    its last signal: about 15 s uncut on an idle machine (60 articles at 0.15 s took 6 s,
    and the 5 s moment once found the crawl finished)."""
    catalog = Catalog(iter_fixtures(), extra_articles=300)
    with MirrorServer(catalog.routes(), handlers=catalog.handlers(), delay=0.3) as mirror:
        yield mirror


def signalled_crawl(folder: Path, mirror: MirrorServer, moment: float, count: int) -> dict:
    folder.mkdir()
    config = discovery_config(folder, mirror)
    text = config.read_text(encoding="utf-8")  # two requests at a time
    config.write_text(
        text.replace("concurrent_requests_per_domain = 8", "concurrent_requests_per_domain = 2")
    )
    crawl = start_newsarchive("--config", str(config), "crawl")
    wait_for_its_handler(crawl.pid)
    time.sleep(moment)
    for number in range(count):
        if crawl.poll() is not None:
            break
        crawl.send_signal(SIGNALS[number])
        time.sleep(SIGNAL_GAP)
    try:
        stdout, stderr = crawl.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        crawl.kill()
        stdout, stderr = crawl.communicate()
        stderr += "\nHUNG: killed after 90 s"
    return {"folder": folder, "returncode": crawl.returncode, "stdout": stdout, "stderr": stderr}


def wait_for_its_handler(pid: int) -> None:
    """Moments count from when the process catches SIGTERM (`SigCgt` in /proc): its first
    statement. Before that the interpreter itself is starting (about 30 ms on an idle machine,
    longer under this test's load), and a signal ends the process before any run began."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return  # it ended: the checks say why
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.005)
    raise AssertionError("the crawl never caught SIGTERM")


def check_on_record(run: dict, moment: float, count: int) -> None:
    where = f"{count} signal(s) at {moment} s"
    output = run["stdout"] + run["stderr"]
    assert run["returncode"] == 1, f"{where}: exit {run['returncode']}\n{output[-3000:]}"
    assert "PROBLEM: interrupted" in run["stdout"], f"{where}\n{output[-3000:]}"
    for trace in ("Traceback", "Unhandled error", "HUNG"):
        assert trace not in run["stderr"], f"{where}\n{run['stderr'][-3000:]}"
    archive = run["folder"] / "archive"
    (report_path,) = archive.glob("runs/**/*.json")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["status"] == "interrupted" and report["exit_status"] == 1, where
    for site, counts in report["sites"].items():
        logged = [
            json.loads(line)
            for segment in (archive / "state" / site / "log").rglob("*.jsonl")
            for line in segment.read_text(encoding="utf-8").splitlines()
        ]
        outcomes = [line for line in logged if "outcome" in line and "finding" not in line]
        assert len(outcomes) == sum(counts["outcomes"].values()), f"{where}: {site}"


@pytest.mark.parametrize("count", [1, 2, 3])
def test_stop_signals_at_any_moment_leave_the_run_on_record_as_interrupted(
    tmp_path: Path, slow_mirror: MirrorServer, count: int
) -> None:
    runs: dict[float, dict] = {}

    def crawl(moment: float) -> None:
        runs[moment] = signalled_crawl(tmp_path / f"at-{moment}", slow_mirror, moment, count)

    for start in range(0, len(MOMENTS), AT_ONCE):
        threads = [
            threading.Thread(target=crawl, args=(m,)) for m in MOMENTS[start : start + AT_ONCE]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(runs) == MOMENTS
    for moment in MOMENTS:
        check_on_record(runs[moment], moment, count)
