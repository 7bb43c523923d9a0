"""The one ending of a run: its kind, its typed report (pure parts; the crawl tests run it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.health.assess import Concluded
from crawler.health.summary import CrawlSummary, SiteRun
from crawler.runs.ending import run_kind
from crawler.stats import Exit, Stat


@pytest.mark.parametrize(
    ("asked", "kind"),
    [
        ({}, "discovery"),
        ({"since": True}, "backfill"),
        ({"until": True}, "backfill"),
        ({"full": True}, "backfill"),
        ({"urls": True, "since": True}, "urls"),
        ({"revisit_only": True}, "revisits"),
        ({"source": True, "since": True}, "history"),
    ],
)
def test_the_run_kind_is_decided_by_what_was_asked(asked: dict[str, bool], kind: str) -> None:
    flags = {"urls": False, "revisit_only": False, "since": False, "until": False, "full": False}
    assert run_kind(**{**flags, **asked}) == kind


def _summary() -> CrawlSummary:
    stats = {Stat.REQUESTED: 2, Stat.FETCHED: 2, Stat.ARCHIVED: 2, Stat.DISCOVERED: 2}
    run = SiteRun.of({str(key): value for key, value in stats.items()})
    return CrawlSummary({"futu": run}, kind="discovery")


def test_the_report_is_stored_with_the_fields_it_always_had_and_no_unset_monitor_fields() -> None:
    started = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    report = _summary().report("crawl", started, started + timedelta(seconds=3), Exit.OK)
    stored = report.to_dict()
    assert list(stored)[:4] == ["command", "software", "run_id", "started"]
    assert stored["seconds"] == 3.0 and stored["kind"] == "discovery"
    assert not {"findings", "alerts", "monitors_error"} & set(stored)
    judged = report.assessed([{"site": "futu", "name": "x", "level": "warning", "detail": "d"}])
    assert judged.to_dict()["findings"][0]["name"] == "x"
    assert "alerts" not in judged.to_dict()


def test_a_report_the_archive_could_not_take_makes_the_run_exit_1() -> None:
    started = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    report = _summary().report("crawl", started, started, Exit.OK)
    assert Concluded(report, "runs/k.json").exit_status == Exit.OK
    assert Concluded(report, "runs/k.json", "disk full", True).exit_status == Exit.PROBLEMS
