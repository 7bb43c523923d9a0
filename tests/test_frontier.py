"""Scale-out: `backfill` seeds a shared Redis frontier, `worker`s on it archive every URL once.

A real redis-server (password, free 127.0.0.1 port), real workers in child processes, the
mirror serving generated articles, and a real S3-compatible server as the shared archive.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.frontier.queue import redact
from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer
from crawler.parsers import identify
from pipelines.state import ArchiveState
from pipelines.store import LocalStore
from tests.support.commands import finish, newsarchive, start_newsarchive
from tests.support.configs import sites_toml
from tests.support.redisserver import PASSWORD, RedisServer
from tests.support.s3server import WeedMini, bucket_keys, free_ports

CATALOG = Catalog(iter_fixtures(), extra_articles=40)
URLS = [CATALOG.url(item) for item in CATALOG.items if item.is_article]
IDS = {identify(url).id for url in URLS}
SITES = ("futu", "tencent")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def frontier(redis_server: RedisServer) -> RedisServer:
    """The module's Redis, emptied: each test seeds its own frontier."""
    if redis_server.process is None:
        redis_server.start()
    redis_server.client().flushall()
    return redis_server


@pytest.fixture(scope="module")
def site_mirror() -> Iterator[MirrorServer]:
    with MirrorServer(CATALOG.routes(), handlers=CATALOG.handlers()) as server:
        yield server


def worker_config(
    tmp_path: Path, mirror: MirrorServer, location: str, rate: float = 50, **crawl: object
) -> Path:
    """A config on the mirror: one archive location, the shared rate per site."""
    path = tmp_path / "worker.toml"
    crawl_lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in crawl.items())
    rates: dict[str, dict[str, object]] = {site: {"shared_rate": rate} for site in SITES}
    path.write_text(
        f"""
[archive]
location = "{location}"
addressing_style = "path"
spool_dir = "{tmp_path / "spool"}"
[crawl]
download_delay = 0
autothrottle = false
lock_dir = "{tmp_path / "locks"}"
{crawl_lines}
{sites_toml(mirror, rates)}""",
        encoding="utf-8",
    )
    return path


def urls_file(tmp_path: Path, urls: list[str]) -> Path:
    path = tmp_path / "urls.txt"
    path.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return path


def redis_env(server: RedisServer, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"NEWSARCHIVE_REDIS": server.url, **(extra or {})}


def backfill(
    config: Path, server: RedisServer, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return newsarchive("--config", str(config), "backfill", *args, env=redis_env(server, env))


def status(
    config: Path, server: RedisServer, env: dict[str, str] | None = None
) -> dict[str, dict[str, int]]:
    """`backfill --status` read back: site -> queued / in_flight / archived / failed."""
    result = backfill(config, server, "--status", env=env)
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines()[1:]:
        cells = line.split()
        if cells and cells[0] in SITES:
            rows[cells[0]] = dict(
                zip(
                    ("queued", "in_flight", "archived", "failed"), map(int, cells[1:5]), strict=True
                )
            )
    return rows


def start_workers(
    config: Path, server: RedisServer, count: int, *args: str, env: dict[str, str] | None = None
) -> list[subprocess.Popen[str]]:
    return [
        start_newsarchive("--config", str(config), "worker", *args, env=redis_env(server, env))
        for _ in range(count)
    ]


def wait_for_archived(config: Path, server: RedisServer, count: int) -> int:
    """Wait (at most a minute) until the frontier says `count` articles are archived."""
    deadline = time.monotonic() + 60
    archived = 0
    while time.monotonic() < deadline:
        archived = sum(r["archived"] for r in status(config, server).values())
        if archived >= count:
            return archived
        time.sleep(0.3)
    raise AssertionError(f"only {archived} archived after a minute")


def parsed_per_id(state: ArchiveState) -> Counter[str]:
    return Counter(
        line["id"] for site in SITES for line in state.outcomes(site) if line["outcome"] == "parsed"
    )


# --- seeding ----------------------------------------------------------------------------------


def test_backfill_queues_what_is_missing_and_a_rerun_only_what_is_still_missing(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer
) -> None:
    config = worker_config(tmp_path, site_mirror, str(tmp_path / "archive"))
    archived_first = URLS[0]
    crawled = newsarchive("--config", str(config), "crawl", "--url", archived_first)
    assert crawled.returncode == 0, crawled.stderr
    # every URL, one twice, one of another site's layout, one no article URL at all
    listed = [*URLS, URLS[3], "https://example.com/not-a-news-site", "# a comment", ""]
    first = backfill(config, frontier, "--urls-file", str(urls_file(tmp_path, listed)))
    assert first.returncode == 0, first.stderr
    assert (
        first.stdout.splitlines()[-1]
        == f"queued {len(IDS) - 1}, already archived 1, already queued 1"
    )
    assert "1 lines are no article URL of any site" in first.stderr
    rows = status(config, frontier)
    assert sum(r["queued"] for r in rows.values()) == len(IDS) - 1
    again = backfill(config, frontier, "--urls-file", str(urls_file(tmp_path, listed)))
    assert (
        again.stdout.splitlines()[-1] == f"queued 0, already archived 1, already queued {len(IDS)}"
    )
    # the archive-state log holds the queuing, one line per queued URL
    state = ArchiveState(LocalStore(tmp_path / "archive"), tmp_path / "spool")
    queued = [
        line for site in SITES for line in state.outcomes(site) if line["outcome"] == "queued"
    ]
    assert len(queued) == len(IDS) - 1 and identify(archived_first).id not in {
        q["id"] for q in queued
    }


def test_bad_redis_is_one_line_and_exit_2_before_any_fetch(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer
) -> None:
    config = worker_config(tmp_path, site_mirror, str(tmp_path / "archive"))
    (port,) = free_ports(1)
    wrong = frontier.url.replace(PASSWORD, "not-the-password")
    cases = {
        f"redis://:{PASSWORD}@127.0.0.1:{port}/0": "not reachable",
        wrong: "refused the password",
        frontier.url.replace(f":{PASSWORD}@", ""): "needs a password",
    }
    before = len(site_mirror.requests)
    for url, said in cases.items():
        for command in (["worker", "--idle-exit", "1"], ["backfill", "--status"]):
            result = newsarchive("--config", str(config), *command, "--redis", url)
            assert result.returncode == 2, result.stderr
            assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1
            assert PASSWORD not in result.stderr and "not-the-password" not in result.stderr
            assert "Traceback" not in result.stderr
    assert len(site_mirror.requests) == before  # nothing fetched
    missing = newsarchive("--config", str(config), "worker")
    assert missing.returncode == 2 and "--redis URL" in missing.stderr
    for args, said in (
        (["--site", "futu", "--since", "2025-02-01", "--until", "2025-01-01"], "--until is before"),
        (["--urls-file", str(tmp_path / "none.txt")], "no such file"),
        (["--since", "2025-13-01"], "--since"),
        ([], "give either --urls-file FILE or --since"),
    ):
        refused = backfill(config, frontier, *args)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


# --- workers ----------------------------------------------------------------------------------


def test_three_workers_archive_every_url_exactly_once_into_s3(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer, weed: WeedMini, bucket: str
) -> None:
    config = worker_config(tmp_path, site_mirror, f"s3://{bucket}/news")
    env = weed.env()
    seeded = backfill(config, frontier, "--urls-file", str(urls_file(tmp_path, URLS)), env=env)
    assert (
        seeded.stdout.splitlines()[-1] == f"queued {len(IDS)}, already archived 0, already queued 0"
    )
    outputs = finish(start_workers(config, frontier, 3, "--idle-exit", "2", env=env))
    assert all("local folder" not in out for out in outputs)  # S3: shared, no warning
    records = [k for k in bucket_keys(weed, bucket) if re.match(r"news/articles/.+\.json$", k)]
    assert len(records) == len(IDS)  # one record each: no second version, no copy
    assert not [k for k in records if re.search(r"\.v\d+\.json$", k)]
    assert {k.rsplit("/", 1)[1].removesuffix(".json") for k in records} == IDS
    rows = status(config, frontier, env)
    assert {site: (r["queued"], r["in_flight"], r["failed"]) for site, r in rows.items()} == {
        site: (0, 0, 0) for site in SITES
    }
    assert sum(r["archived"] for r in rows.values()) == len(IDS)
    fetched = [p for p in site_mirror.requests if "robots.txt" not in p]
    assert len(fetched) >= len(IDS)


def test_a_worker_claims_its_next_batch_before_the_last_one_runs_out(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer
) -> None:
    """scrapy-redis claims only when the spider is idle; ours tops up while pages download.
    (DEBUG shows Scrapy's stats dump, where the count is.)"""
    config = worker_config(tmp_path, site_mirror, str(tmp_path / "archive"), log_level="DEBUG")
    backfill(config, frontier, "--urls-file", str(urls_file(tmp_path, URLS)))
    (output,) = finish(start_workers(config, frontier, 1, "--idle-exit", "2"))
    ahead = re.findall(r"'newsarchive/frontier/claimed_ahead': (\d+)", output)
    assert ahead and sum(map(int, ahead)) >= 1, output[-3000:]
    assert sum(r["archived"] for r in status(config, frontier).values()) == len(IDS)


def test_the_shared_rate_holds_across_three_workers(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer
) -> None:
    rate = 3  # slots 333 ms apart: one request made late by a busy machine stays within +1
    config = worker_config(
        tmp_path,
        site_mirror,
        str(tmp_path / "archive"),
        rate=rate,
        concurrent_requests_per_domain=8,
    )
    futu = [url for url in URLS if identify(url).site == "futu"][:15]
    backfill(config, frontier, "--urls-file", str(urls_file(tmp_path, futu)))
    first = len(site_mirror.request_times)
    workers = start_workers(config, frontier, 3, "--site", "futu", "--idle-exit", "2")
    outputs = finish(workers)
    times = sorted(site_mirror.request_times[first:])
    assert len(times) >= len(futu)
    busiest = max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))
    assert busiest <= rate + 1, busiest  # any one second: the rate, one slot of tolerance
    span = times[-1] - times[0]
    assert span >= (len(times) - 1) / rate * 0.9  # the three together, not three times it
    assert all("local folder" in out for out in outputs)  # warned: not shareable


def test_a_killed_worker_loses_nothing_and_a_rerun_requeues_its_claims(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer
) -> None:
    # 2 a second per site: 51 articles take the worker about 13 s, so the kill lands mid-run
    # even when each status read takes a busy machine a second or two (at 8, all were done)
    config = worker_config(tmp_path, site_mirror, str(tmp_path / "archive"), rate=2)
    listed = urls_file(tmp_path, URLS)
    backfill(config, frontier, "--urls-file", str(listed))
    (worker,) = start_workers(config, frontier, 1)  # no --idle-exit: it would run on
    wait_for_archived(config, frontier, 5)
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    rows = status(config, frontier)
    in_flight = sum(r["in_flight"] for r in rows.values())
    archived = sum(r["archived"] for r in rows.values())
    assert in_flight > 0 and archived < len(IDS), (in_flight, archived)
    rerun = backfill(config, frontier, "--urls-file", str(listed))
    assert rerun.returncode == 0, rerun.stderr
    summary = rerun.stdout.splitlines()
    (requeued,) = [int(line.split()[0]) for line in summary if "put back on the queue" in line]
    assert requeued <= in_flight  # an id archived just before the kill is settled instead
    queued = int(re.match(r"queued (\d+),", summary[-1])[1])  # type: ignore[index]
    assert queued == requeued
    finish(start_workers(config, frontier, 1, "--idle-exit", "2"))
    rows = status(config, frontier)
    assert sum(r["archived"] for r in rows.values()) == len(IDS)
    assert sum(r["in_flight"] + r["queued"] for r in rows.values()) == 0
    state = ArchiveState(LocalStore(tmp_path / "archive"), tmp_path / "spool")
    per_id = parsed_per_id(state)
    assert set(per_id) == IDS
    records = list((tmp_path / "archive" / "articles").rglob("*.json"))
    assert len(records) == len(IDS)  # every URL archived exactly once


def test_a_redis_restart_mid_run_makes_workers_wait_not_crash(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer
) -> None:
    # the shared rate keeps both workers to about 13 s in all, so the restart lands mid-run
    config = worker_config(tmp_path, site_mirror, str(tmp_path / "archive"), rate=2)
    backfill(config, frontier, "--urls-file", str(urls_file(tmp_path, URLS)))
    workers = start_workers(config, frontier, 2, "--idle-exit", "3")
    archived = wait_for_archived(config, frontier, 3)
    assert archived < len(IDS)  # mid-run
    frontier.restart(down_seconds=2)
    finish(workers)  # exit 0: they waited for Redis and went on
    rows = status(config, frontier)
    assert sum(r["archived"] for r in rows.values()) == len(IDS)
    records = list((tmp_path / "archive" / "articles").rglob("*.json"))
    assert len(records) == len(IDS)


def test_backfill_of_a_range_asks_the_discovery_sources_and_watch_ends_when_done(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer
) -> None:
    config = worker_config(tmp_path, site_mirror, str(tmp_path / "archive"))
    result = backfill(config, frontier, "--site", "futu", "--since", "2020-01-01")
    assert result.returncode == 0, result.stdout + result.stderr
    queued = int(re.match(r"queued (\d+),", result.stdout.splitlines()[-1])[1])  # type: ignore[index]
    assert queued > 0
    assert status(config, frontier)["futu"]["queued"] == queued
    assert status(config, frontier)["tencent"]["queued"] == 0
    # the listings hold the sample pages that fail on purpose: exit 1, and said per outcome
    (output,) = finish(
        start_workers(config, frontier, 1, "--site", "futu", "--idle-exit", "2"), expect=1
    )
    assert "PROBLEM: futu: 1 page in no known layout, archived with generic text" in output
    rows = status(config, frontier)
    assert rows["futu"]["queued"] == rows["futu"]["in_flight"] == 0
    assert rows["futu"]["archived"] + rows["futu"]["failed"] == queued
    watched = backfill(config, frontier, "--watch", "--site", "futu")
    assert watched.returncode == 0, watched.stderr
    table = watched.stdout.splitlines()
    assert table[1].split()[:5] == ["futu", "0", "0", str(rows["futu"]["archived"]), "2"]
    assert table[2].split() == ["failed:", "1", "blocked,", "1", "removed"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@10.0.0.5:6379/0", "redis://***@10.0.0.5:6379/0"),
        ("rediss://user:pw@redis.example:6380/2", "rediss://***@redis.example:6380/2"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_redis_urls_are_shown_without_credentials(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_a_worker_waiting_for_work_is_idle_not_stalled(
    tmp_path: Path, frontier: RedisServer, site_mirror: MirrorServer
) -> None:
    config = worker_config(tmp_path, site_mirror, str(tmp_path / "archive"), stall_timeout=10)
    started = time.monotonic()
    (output,) = finish(start_workers(config, frontier, 1, "--idle-exit", "14"))  # exit 0
    assert time.monotonic() - started >= 14  # it waited out --idle-exit, past stall_timeout
    assert "no progress" not in output and "stalled" not in output
