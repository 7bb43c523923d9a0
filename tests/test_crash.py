"""A crawl killed with SIGKILL half way loses nothing and duplicates nothing when re-run."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

from deltalake import DeltaTable

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer, Route, mirror_path
from crawler.parsers import identify
from crawler.runs.locks import SiteLock
from tests.support.commands import newsarchive, start_newsarchive
from tests.support.configs import discovery_config, records


def test_sigkill_half_way_then_rerun_archives_each_article_once(tmp_path: Path) -> None:
    catalog = Catalog(iter_fixtures(), extra_articles=40)
    expected = {i.num for i in catalog.items if i.site == "tencent" and i.is_article and i.channel}
    with MirrorServer(catalog.routes(), handlers=catalog.handlers(), delay=0.05) as mirror:
        config = discovery_config(tmp_path, mirror)
        args = ["--config", str(config), "crawl", "--site", "tencent", "--since", "2000-01-01"]
        crawl = start_newsarchive(*args)
        deadline = time.monotonic() + 60
        while len(records(tmp_path, "tencent")) < 5:
            assert time.monotonic() < deadline and crawl.poll() is None, "crawl did not start"
            time.sleep(0.02)
        crawl.send_signal(signal.SIGKILL)
        crawl.communicate(timeout=10)  # reaps the process and closes its pipes
        archived_before = len(records(tmp_path, "tencent"))
        assert 0 < archived_before < len(expected), "the kill must land half way"

        rerun = newsarchive(*args)
    assert "archived" in rerun.stdout, rerun.stderr[-2000:]
    ids = [json.loads(p.read_text())["id"] for p in records(tmp_path, "tencent")]
    assert Counter(ids).most_common(1)[0][1] == 1  # no duplicate, no second version
    assert set(ids) == expected  # nothing lost
    # A kill can leave a .tmp- file behind, never a half-written file under a real name.
    for path in (tmp_path / "archive").rglob("*.json"):
        if "_delta_log" not in path.parts:  # the catalog's commits are JSON lines
            json.loads(path.read_text())  # every published file is complete
    # The killed run's journaled rows were committed by the re-run, once: `ls` (which reads
    # the catalog) sees them all, and the table, read by pandas, holds each version once.
    listed = newsarchive("--config", str(config), "ls", "--site", "tencent", "--json")
    assert {json.loads(line)["id"] for line in listed.stdout.splitlines()} == expected
    table = DeltaTable(str(tmp_path / "archive" / "catalog")).to_pandas(columns=["site", "id"])
    in_catalog = table[table.site == "tencent"].id.tolist()
    assert sorted(in_catalog) == sorted(ids)


def test_sigterm_half_way_is_reported_interrupted_and_stores_no_high_water_mark(
    tmp_path: Path,
) -> None:
    """What the scheduler's job timeout does (and systemd, and Ctrl-C)."""
    catalog = Catalog(iter_fixtures(), extra_articles=40)
    with MirrorServer(catalog.routes(), handlers=catalog.handlers(), delay=0.1) as mirror:
        config = discovery_config(tmp_path, mirror)
        args = ["--config", str(config), "crawl", "--site", "tencent"]
        crawl = start_newsarchive(*args)
        deadline = time.monotonic() + 60
        while len(records(tmp_path, "tencent")) < 3:
            assert time.monotonic() < deadline and crawl.poll() is None, "crawl did not start"
            time.sleep(0.02)
        crawl.send_signal(signal.SIGTERM)
        stdout, stderr = crawl.communicate(timeout=60)
    assert crawl.returncode == 1, stderr[-3000:]
    assert "PROBLEM: interrupted: tencent stopped by a signal" in stdout
    (report_path,) = (tmp_path / "archive" / "runs").rglob("*.json")
    report = json.loads(report_path.read_text())
    assert report["status"] == "interrupted" and report["exit_status"] == 1
    assert report["sites"]["tencent"]["close_reason"] == "shutdown"
    # The next run starts where the last *finished* one did: there is none, so no mark.
    assert not (tmp_path / "archive" / "state" / "tencent" / "runs").exists()
    lock = SiteLock(tmp_path / "locks", "tencent")
    assert lock.acquire(), "the interrupted crawl's lock must be released"
    lock.release()


def test_a_stalled_crawl_is_stopped_by_the_watchdog_and_reported(tmp_path: Path) -> None:
    """A server that accepts the request and answers after two minutes: the watchdog stops
    the crawl after crawl.stall_timeout; the orderly close waits only for the request in
    flight to time out (download_timeout), and the run says it was interrupted."""
    catalog = Catalog(iter_fixtures())
    item = next(i for i in catalog.items if i.site == "tencent" and i.is_article)
    url = catalog.url(item)

    def silence(*_: object) -> Route:
        time.sleep(120)
        return item.page

    with MirrorServer({}, handlers={mirror_path(identify(url).url): silence}) as mirror:
        config = discovery_config(
            tmp_path, mirror, crawl={"stall_timeout": 10, "download_timeout": 20}
        )
        started = time.monotonic()
        result = newsarchive("--config", str(config), "crawl", "--url", url)
        took = time.monotonic() - started
    assert result.returncode == 1, result.stderr[-3000:]
    assert "PROBLEM: interrupted: tencent stopped by the watchdog" in result.stdout
    assert took < 60, took
    (report_path,) = (tmp_path / "archive" / "runs").rglob("*.json")
    assert json.loads(report_path.read_text())["status"] == "interrupted"
