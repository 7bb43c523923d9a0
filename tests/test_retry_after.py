"""A throttled answer that says when to come back is believed: the page is asked for again
only after its Retry-After, and the run still archives it (web archives and sites both answer
429 when pushed; Scrapy's own retry would ask again at once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from crawler.middlewares.retry_after import retry_after_seconds
from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer, Route, fixture_routes, mirror_path
from crawler.parsers import identify
from tests.support.commands import newsarchive
from tests.support.configs import mirror_config, records, summary_line

POST = load_fixture(FIXTURES_DIR / "futu" / "zh-cn-post")
WAIT = 2


def test_a_429_with_retry_after_is_waited_out_then_archived(tmp_path: Path) -> None:
    page = Route(POST.status, POST.headers, POST.body)
    answers = [Route(429, {"Retry-After": str(WAIT), "Content-Type": "text/plain"}, b"slow down")]

    def throttled_once(*_: Any) -> Route:
        return answers.pop() if answers else page

    path = mirror_path(identify(POST.url).url)
    with MirrorServer(fixture_routes([]), handlers={path: throttled_once}) as site:
        config = mirror_config(tmp_path / "newsarchive.toml", site, tmp_path / "archive")
        result = newsarchive("--config", str(config), "crawl", "--url", POST.url)
        asked = [t for p, t in zip(site.requests, site.request_times, strict=True) if p == path]
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert summary_line(result.stdout, "futu")["archived"] == 1
    assert len(asked) == 2 and asked[1] - asked[0] >= WAIT  # not asked again before then
    assert "answered 429: waiting 2 s (Retry-After)" in result.stderr
    (record,) = [json.loads(p.read_text()) for p in records(tmp_path, "futu")]
    assert record["http_status"] == 200


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
