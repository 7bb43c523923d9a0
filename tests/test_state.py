"""ArchiveState: the spiders' one door to the archive, and the fetch-outcome log it keeps."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipelines.records.layout import index_key
from pipelines.state import ArchiveState
from pipelines.store import LocalStore


def test_outcomes_are_published_create_only_and_read_back_by_day(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "archive")
    state = ArchiveState(store, tmp_path / "spool")
    state.record_outcome(
        "futu", "https://a/1", "parsed", "1-en", at=datetime(2026, 11, 1, tzinfo=UTC)
    )
    state.record_outcome(
        "futu", "https://a/2", "fetch_failed", None, "timeout", at=datetime(2026, 11, 2, tzinfo=UTC)
    )
    state.record_outcome(
        "tencent", "https://b/1", "parsed", "X1", at=datetime(2026, 11, 2, tzinfo=UTC)
    )
    assert not list(store.list("state/"))  # journaled locally until published
    assert state.flush() == 3
    keys = list(store.list("state/"))
    assert len(keys) == 3 and all("/log/2026/11/0" in key for key in keys)
    assert [(o["url"], o["outcome"]) for o in state.outcomes("futu")] == [
        ("https://a/1", "parsed"),
        ("https://a/2", "fetch_failed"),
    ]
    (late,) = state.outcomes("futu", since=date(2026, 11, 2))
    assert (late["id"], late["detail"]) == (None, "timeout")
    assert state.flush() == 0  # nothing twice


def test_a_killed_crawls_outcomes_are_published_by_the_next_one(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "archive")
    dead = ArchiveState(store, tmp_path / "spool")
    dead.record_outcome("futu", "https://a/1", "parsed", "1-en")
    # The journal of a process that no longer exists: pid 2**22 + 1 is above the largest
    # pid_max Linux allows, so no live process can have it.
    journal = next((tmp_path / "spool" / "state-journal").glob("*.jsonl"))
    stamp, pid, tag, sequence = journal.stem.split("-")
    assert int(pid) == os.getpid()
    journal.rename(journal.with_name(f"{stamp}-{2**22 + 1}-{tag}-{sequence}.jsonl"))
    survivor = ArchiveState(store, tmp_path / "spool")
    assert survivor.flush() == 1
    assert [o["url"] for o in survivor.outcomes("futu")] == ["https://a/1"]


def test_high_water_mark_and_archived_ids(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "archive")
    state = ArchiveState(store, tmp_path / "spool")
    assert state.last_high_water("tencent") is None
    first = datetime(2026, 11, 20, 8, tzinfo=UTC)
    state.record_run("tencent", first, ended=datetime(2026, 11, 20, 9, tzinfo=UTC))
    state.record_run("tencent", first.replace(hour=12), ended=datetime(2026, 11, 21, tzinfo=UTC))
    assert state.last_high_water("tencent") == first.replace(hour=12)  # the newest run's
    assert not state.is_archived("tencent", "X1")
    store.put_if_absent("index/tencent/X1.json", b"{}", "application/json")
    assert state.is_archived("tencent", "X1")


ARCHIVING = frozenset({"parsed", "layout_unknown"})


def test_a_listed_id_the_log_has_not_seen_is_new_without_a_request_within_its_reach(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "archive")
    state = ArchiveState(store, tmp_path / "spool")
    now = datetime.now(UTC)
    state.record_outcome("futu", "https://a/1", "parsed", "1-en", at=now - timedelta(days=1))
    state.record_outcome("futu", "https://a/9", "parsed", "9-en", at=now - timedelta(days=40))
    state.flush()
    store.put_if_absent(index_key("futu", "1-en"), b"{}", "application/json")
    store.put_if_absent(index_key("futu", "7-en"), b"{}", "application/json")  # no log line
    asked: list[str] = []
    exists = store.exists

    def counted_exists(key: str) -> bool:  # the store's own answer, each question noted
        asked.append(key)
        return exists(key)

    store.exists = counted_exists  # type: ignore[method-assign]

    # the log reaches back 40 days, beyond what is read (14): "new" only for recent listings
    assert state.archived_as_listed("futu", "2-en", now, ARCHIVING) is False
    assert asked == []  # a new article: not one request
    assert state.archived_as_listed("futu", "1-en", now, ARCHIVING) is True  # confirmed
    assert asked == [index_key("futu", "1-en")]
    # listed before what the log read covers: asked, and found
    assert state.archived_as_listed("futu", "7-en", now - timedelta(days=20), ARCHIVING)
    assert state.archived_as_listed("futu", "7-en", None, ARCHIVING)  # no listing time: asked
    assert len(asked) == 3


def test_a_log_read_whole_answers_for_any_listing_time(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "archive")
    state = ArchiveState(store, tmp_path / "spool")
    state.record_outcome("tencent", "https://b/1", "parsed", "X1")
    state.flush()
    store.put_if_absent(index_key("tencent", "X1"), b"{}", "application/json")
    long_ago = datetime(2019, 5, 1, tzinfo=UTC)  # the log began after it: it is complete
    assert state.archived_as_listed("tencent", "X2", long_ago, ARCHIVING) is False
    assert state.archived_as_listed("tencent", "X2", None, ARCHIVING) is False  # no time
    assert state.archived_as_listed("tencent", "X1", long_ago, ARCHIVING) is True
