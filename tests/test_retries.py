"""Failed pages are fetched again by later runs, whatever the high-water mark says.

The retry ledger is part of the archive-state log (pipelines/state): each run appends what
became of each URL, and the next discovery run fetches again the pages whose last outcome is
a retried failure (crawler/outcomes.py), with backoff, until `retry.max_attempts`; then it
records "gave up" once and reports it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import Handler, MirrorServer, Route, mirror_path
from crawler.parsers import identify
from pipelines.state import ArchiveState, RetryPolicy
from pipelines.store import open_store
from tests.support.commands import newsarchive
from tests.support.configs import discovery_config, records, summary_line

BUSY = Route(503, {"Content-Type": "text/plain"}, b"busy")


@pytest.fixture
def catalog_mirror() -> Iterator[MirrorServer]:
    catalog = Catalog(iter_fixtures())
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as server:
        server.catalog = catalog  # type: ignore[attr-defined]
        yield server


def flaky(server: MirrorServer, failures: int) -> tuple[str, list[int]]:
    """Make one listed Tencent article answer 503 `failures` times, then its page; its id and
    a list that grows by one per request for it."""
    catalog: Catalog = server.catalog  # type: ignore[attr-defined]
    item = next(i for i in catalog.items if i.site == "tencent" and i.is_article and i.channel)
    ref = identify(catalog.url(item))
    calls: list[int] = []

    def answer(*_: object) -> Route:
        calls.append(1)
        return BUSY if len(calls) <= failures else item.page

    handler: Handler = answer
    server.handlers[mirror_path(ref.url)] = handler
    return ref.id, calls


def crawl(config: Path) -> tuple[int, dict[str, int], str]:
    result = newsarchive("--config", str(config), "crawl", "--site", "tencent")
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.returncode, summary_line(result.stdout, "tencent"), result.stdout


def test_a_page_that_failed_is_fetched_again_by_the_next_run(
    tmp_path: Path, catalog_mirror: MirrorServer
) -> None:
    article_id, calls = flaky(catalog_mirror, failures=1)
    config = discovery_config(
        tmp_path, catalog_mirror, crawl={"retry_times": 0}, retry={"backoff_minutes": 0}
    )
    _, first, _ = crawl(config)
    assert first["fetch_failed"] == 1 and first["retried"] == 0 and len(calls) == 1
    assert not [p for p in records(tmp_path, "tencent") if p.stem == article_id]
    # The second run's listings find nothing new past the high-water mark, but the failed
    # page is owed a fetch.
    status, second, _ = crawl(config)
    assert second["retried"] == 1 and second["archived"] == 1, second
    assert second["fetch_failed"] == 0 and status == 0 and len(calls) == 2
    assert [p for p in records(tmp_path, "tencent") if p.stem == article_id]
    # Settled: a third run does not fetch it again.
    _, third, _ = crawl(config)
    assert third["retried"] == 0 and len(calls) == 2


def test_a_page_that_keeps_failing_is_given_up_once_and_reported(
    tmp_path: Path, catalog_mirror: MirrorServer
) -> None:
    _, calls = flaky(catalog_mirror, failures=1000)
    config = discovery_config(
        tmp_path,
        catalog_mirror,
        crawl={"retry_times": 0},
        retry={"backoff_minutes": 0, "max_attempts": 2},
    )
    crawl(config)
    _, second, _ = crawl(config)
    assert second["retried"] == 1 and second["fetch_failed"] == 1 and len(calls) == 2
    status, third, stdout = crawl(config)
    assert third["retried"] == 0 and third["gave_up"] == 1 and len(calls) == 2
    assert status == 1 and "PROBLEM: tencent: gave up on 1 page after 2 attempts" in stdout
    _, fourth, _ = crawl(config)
    assert fourth["gave_up"] == 0 and fourth["retried"] == 0 and len(calls) == 2


def test_the_ledger_waits_out_the_backoff_and_settles_on_any_other_outcome(
    tmp_path: Path,
) -> None:
    """On a real local archive, with outcome times set by hand."""
    from crawler.config import load_config

    config = load_config(
        None,
        {
            "NEWSARCHIVE_ARCHIVE": str(tmp_path / "archive"),
            "NEWSARCHIVE_SPOOL": str(tmp_path / "spool"),
        },
    )
    state = ArchiveState(open_store(config.archive), tmp_path / "spool")
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    hour = timedelta(hours=1)
    state.record_outcome("futu", "u1", "timeout", "1", at=now - 3 * hour)
    state.record_outcome("futu", "u1", "server_error", "1", at=now - 2 * hour)
    state.record_outcome("futu", "u2", "timeout", "2", at=now - 5 * hour)
    state.record_outcome("futu", "u2", "parsed", "2", at=now - 4 * hour)
    state.record_outcome("futu", "u3", "gone", "3", at=now - 4 * hour)
    state.record_outcome("futu", "u4", "blocked", "4", at=now - 20 * hour)
    state.record_outcome("futu", "u5", "empty_page", "5", at=now - 26 * hour)  # the day before
    state.record_outcome("futu", "u6", "timeout", "6", at=now - 40 * 24 * hour)  # past lookback
    state.flush()
    retried = frozenset({"timeout", "server_error", "blocked", "empty_page"})
    # 60 minutes of backoff: u1 (2 attempts) waits 120 min after its last failure (2 h ago).
    policy = RetryPolicy(max_attempts=3, backoff_minutes=60, lookback_days=14, retried=retried)
    ledger = state.retry_ledger("futu", policy, now)
    assert sorted(d.url for d in ledger.due) == ["u1", "u4", "u5"]
    assert {d.url: d.attempts for d in ledger.due}["u1"] == 2
    later = RetryPolicy(max_attempts=3, backoff_minutes=90, lookback_days=14, retried=retried)
    ledger = state.retry_ledger("futu", later, now)
    assert sorted(d.url for d in ledger.waiting) == ["u1"]
    assert sorted(d.url for d in ledger.due) == ["u4", "u5"]
    spent = RetryPolicy(max_attempts=2, backoff_minutes=0, lookback_days=14, retried=retried)
    assert [d.url for d in state.retry_ledger("futu", spent, now).exhausted] == ["u1"]
