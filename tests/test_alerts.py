"""Monitors and alerts: a run is judged against comparable runs, and the findings reach real
receivers on 127.0.0.1 (an SMTP server, aiosmtpd, and a JSON webhook), once per site per run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from crawler.health.alerts import channel_name, messages
from crawler.health.assess import site_health, spark
from crawler.health.monitors import Finding, evaluate
from crawler.health.options import MonitorConfig
from crawler.health.reports import recent_reports, write_report
from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer
from crawler.parsers import identify
from pipelines.state import ArchiveState
from pipelines.store import LocalStore
from tests.support.commands import newsarchive
from tests.support.configs import mirror_config
from tests.support.s3server import free_ports

CATALOG = Catalog(iter_fixtures(), extra_articles=30)
FUTU = [
    CATALOG.url(i)
    for i in CATALOG.items
    if i.is_article and identify(CATALOG.url(i)).site == "futu"
]
SMTP_SECRET = "smtp-s3cret-Kq2"
NOW = datetime.now(UTC)


def report(
    days_ago: float, archived: int, kind: str = "urls", job: str | None = None, **site: Any
) -> dict[str, Any]:
    started = NOW - timedelta(days=days_ago)
    counts = {
        "archived": archived,
        "new_versions": 0,
        "fetched": archived,
        "outcomes": {"parsed": archived},
        "discovery_errors": 0,
        **site,
    }
    return {
        "started": started.isoformat(),
        "kind": kind,
        "job": job,
        "command": "crawl",
        "exit_status": 0,
        "sites": {"futu": counts},
        "pending_uploads": 0,
    }


# --- the monitors and the storm rule, as pure functions ----------------------------------------


def test_a_collapse_against_comparable_runs_names_the_numbers() -> None:
    history = [report(d, 20, "discovery", "nightly") for d in range(1, 6)]
    history += [report(d + 0.5, 900, "backfill") for d in range(1, 6)]  # another kind: not compared
    findings = evaluate(report(0, 3, "discovery", "nightly"), history, MonitorConfig())
    assert [f.to_dict() for f in findings] == [
        {
            "site": "futu",
            "name": "archived_collapse",
            "level": "critical",
            "detail": "archived 3, median of 5 comparable runs 20 (below 50% of it)",
        }
    ]
    assert evaluate(report(0, 12, "discovery", "nightly"), history, MonitorConfig()) == []
    assert evaluate(report(0, 3, "discovery", "other-job"), history, MonitorConfig()) == []


def test_field_coverage_ratios_and_discovery_are_watched() -> None:
    history = [report(d, 20, coverage={"author": 18, "tickers": 10}) for d in range(1, 5)]
    now = report(
        0,
        20,
        coverage={"author": 2, "tickers": 10},
        discovery_errors=2,
        fetched=20,
        outcomes={"parsed": 14, "blocked": 5, "layout_changed": 1},
    )
    found = {f.name: f.detail for f in evaluate(now, history, MonitorConfig())}
    assert found == {  # parse errors: 1 of 20 is the 5% threshold, not above it
        "coverage_author": "author on 2 of 20 articles (10%), usually 90% over 4 comparable runs",
        "blocked": "5 of 20 fetched pages challenge pages (25%, threshold 20%)",
        "discovery_broken": "2 listing errors: the listings changed shape or failed",
    }


def test_a_layout_that_starts_to_fail_tonight_is_critical_and_named() -> None:
    history = [report(d, 20) for d in range(1, 6)]
    url = "https://news.futunn.com/post/55501234"
    outcomes = {"parsed": 12, "layout_unknown": 7, "layout_changed": 1}
    failures = [
        {"reason": "layout_changed", "url": url, "detail": "no container (tried futu.article)"},
        {
            "reason": "layout_unknown",
            "url": url + "1",
            "detail": "no known layout (tried futu.article): archived generic text",
        },
    ]
    now = report(0, 20, fetched=20, outcomes=outcomes, failures=failures)
    found = [f.to_dict() for f in evaluate(now, history, MonitorConfig())]
    assert found == [
        {
            "site": "futu",
            "name": "layout_broken",
            "level": "critical",
            "detail": "8 of 20 fetched pages read by no layout (40%; usually 0% over 5 comparable "
            f"runs): layout futu.article, e.g. {url}",
        }
    ]
    # the same share every night is no jump; too little history is no comparison
    steady = [
        report(d, 20, fetched=20, outcomes={"parsed": 12, "layout_unknown": 8}) for d in range(1, 6)
    ]
    assert evaluate(now, steady, MonitorConfig()) == []
    assert evaluate(now, history[:2], MonitorConfig()) == []


def test_one_message_per_site_repeats_summarised_and_recovery_said() -> None:
    collapse = Finding("futu", "archived_collapse", "critical", "archived 1, median 9")
    blocked = Finding("futu", "blocked", "warning", "5 of 20 blocked")
    other = Finding("tencent", "parse_errors", "warning", "3 of 10")
    (futu, tencent) = messages([collapse, blocked, other], [blocked], "warning", "run X")
    assert futu.title == "newsarchive critical: futu: archived 1, median 9"
    assert futu.body.splitlines()[1:] == [
        "- critical: archived_collapse: archived 1, median 9",
        "- still, as in the previous run: blocked",
    ]
    assert tencent.site == "tencent"
    (recovered,) = messages([], [collapse], "warning", "run Y")
    assert recovered.recovered and recovered.title == "newsarchive: futu recovered"
    assert messages([blocked], [], "critical", "run Z") == []  # under min_level
    assert channel_name(1, "tgram://123456:SECRET/987") == "channel 2 (tgram)"


def test_health_trend_and_open_findings() -> None:
    reports = [report(0, 1), report(1, 8), report(2, 8)]
    reports[0]["findings"] = [
        {"site": "futu", "name": "archived_collapse", "level": "critical", "detail": "archived 1"}
    ]
    (futu, tencent) = site_health(reports, ["futu", "tencent"])
    assert futu.archived == [8, 8, 1] and not futu.healthy and tencent.last is None
    assert spark([0, 4, 8]) == "▁▅█"


# --- real receivers ----------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    (port,) = free_ports(1)

    def login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        return AuthResult(success=data.login == b"alerts" and data.password == SMTP_SECRET.encode())

    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=login, auth_require_tls=False
    )
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict[str, Any]], int]]:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, server.server_port
    server.shutdown()
    server.server_close()


def alerts_config(tmp_path: Path, mirror: MirrorServer, urls: list[str]) -> Path:
    """A config crawling the mirror into a fresh local archive, alerting to `urls`."""
    path = mirror_config(tmp_path / "alerts.toml", mirror, tmp_path / "archive")
    extra = f'[search]\nauto_index = "never"\n[alerts]\nurls = {json.dumps(urls)}\n'
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def site_mirror() -> Iterator[MirrorServer]:
    with MirrorServer(CATALOG.routes(), handlers=CATALOG.handlers()) as server:
        yield server


def test_alerts_reach_mail_and_webhook_once_and_a_dead_channel_changes_nothing(
    tmp_path: Path,
    smtp: tuple[Mailbox, int],
    webhook: tuple[list[dict[str, Any]], int],
    site_mirror: MirrorServer,
) -> None:
    box, smtp_port = smtp
    hooks, hook_port = webhook
    (dead,) = free_ports(1)
    urls = [
        f"mailto://alerts:{SMTP_SECRET}@127.0.0.1:{smtp_port}"
        "?from=newsarchive@example.org&to=ops@example.org",
        f"json://127.0.0.1:{hook_port}/hook",
        f"json://127.0.0.1:{dead}/nobody-listens",
    ]
    archive = tmp_path / "archive"
    config = alerts_config(tmp_path, site_mirror, urls)
    store = LocalStore(archive)
    for days in range(1, 6):  # five normal runs of given URLs: 4 futu articles each
        write_report(store, report(days, 4, coverage={}))

    def crawl(*urls: str) -> tuple[str, dict[str, Any]]:
        args = [x for url in urls for x in ("--url", url)]
        result = newsarchive("--config", str(config), "crawl", *args)
        assert result.returncode == 0, result.stdout + result.stderr[-2000:]
        assert SMTP_SECRET not in result.stdout + result.stderr
        (latest,) = recent_reports(store, 1)
        assert SMTP_SECRET not in json.dumps(latest)
        return result.stdout + result.stderr, latest

    # 1. one article where four are usual: a collapse, one alert per channel
    output, latest = crawl(FUTU[0])
    assert "finding: futu: critical: archived_collapse: archived 1, median of 5" in output
    assert len(box.mails) == 1 and len(hooks) == 1
    assert hooks[0]["title"].startswith("newsarchive critical: futu: archived 1, median of 5")
    assert b"archived_collapse" in box.mails[0]
    assert latest["alerts"]["sent"] == 2
    assert latest["alerts"]["failed"][0]["channel"] == "channel 3 (json)"  # dead: reported
    assert "alert not sent: channel 3 (json)" in output
    # 2. a normal run again: the site recovered, said once
    output, latest = crawl(*FUTU[1:5])
    assert latest["findings"] == []
    assert len(box.mails) == 2 and len(hooks) == 2
    assert hooks[1]["title"] == "newsarchive: futu recovered"
    # 3. another normal run: nothing to say, nothing sent
    output, latest = crawl(*FUTU[5:9])
    assert len(box.mails) == 2 and len(hooks) == 2
    assert latest["alerts"] == {"messages": 0, "sent": 0, "failed": []}
    # the findings are in the archive-state log, and `runs --health` shows the site healthy
    state = ArchiveState(store, tmp_path / "spool")
    (logged,) = list(state.findings("futu"))
    assert logged["finding"] == "archived_collapse" and logged["level"] == "critical"
    health = newsarchive("--config", str(config), "runs", "--health", "--site", "futu")
    assert health.returncode == 0, health.stderr
    assert health.stdout.splitlines()[0].startswith("futu       healthy; last run")
    assert "archived per run" in health.stdout and "(4, 4, 4, 4, 4, 1, 4, 4)" in health.stdout


def test_the_scheduler_alerts_for_a_crawl_it_had_to_kill(
    tmp_path: Path, webhook: tuple[list[dict[str, Any]], int]
) -> None:
    from crawler.config import load_config
    from crawler.schedule import killed_alert

    hooks, port = webhook
    path = tmp_path / "c.toml"
    path.write_text(f'[alerts]\nurls = ["json://127.0.0.1:{port}/hook"]\n', encoding="utf-8")
    killed_alert(load_config(path), "nightly-futu", 3600)
    (alert,) = hooks
    assert alert["title"] == "newsarchive critical: job nightly-futu killed"
    assert "ran past 60 min" in alert["message"]


def test_a_plain_scrapy_crawl_alerts_like_newsarchive_crawl(
    tmp_path: Path, webhook: tuple[list[dict[str, Any]], int], mirror: MirrorServer
) -> None:
    from tests.support.commands import scrapy

    hooks, port = webhook
    config = alerts_config(tmp_path, mirror, [f"json://127.0.0.1:{port}/hook"])
    unparsable = "https://news.qq.com/rain/a/20240425A01ZZ100"  # a sample page that fails to parse
    done = scrapy(
        "crawl", "tencent", "-a", f"url={unparsable}", "-s", f"NEWSARCHIVE_CONFIG={config}"
    )
    assert done.returncode == 1, done.stderr[-2000:]  # the run's status: a page failed
    (alert,) = hooks
    assert alert["title"] == (
        "newsarchive warning: tencent: 1 of 1 fetched pages unparsable (100%, threshold 5%)"
    )
    (latest,) = recent_reports(LocalStore(tmp_path / "archive"), 1)
    assert latest["command"] == "scrapy crawl" and latest["alerts"]["sent"] == 1
