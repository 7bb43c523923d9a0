"""The spider's collaborators alone, without a crawl: the request plan decides what a listed
article becomes, the ledger tells its listeners, a listing that is not JSON is a counted error.
(The crawl tests drive the same objects through real spiders against the mirror.)"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.statscollectors import StatsCollector
from scrapy.utils.test import get_crawler

from crawler.config import load_config
from crawler.items import BEIJING
from crawler.parsers import PARSERS
from crawler.spiders.ledger import OutcomeLedger
from crawler.spiders.plan import ArticleCallbacks, RequestPlan, RunArguments
from crawler.spiders.sources import ListingReader
from crawler.stats import Stat
from pipelines.state import ArchiveState
from pipelines.store.local import LocalStore

ARTICLE = "https://news.futunn.com/post/62202518"
LOG = logging.getLogger("test.plan")


def new_stats() -> StatsCollector:
    """Scrapy's own stats collector, as a crawl has it."""
    stats: StatsCollector = get_crawler().stats
    return stats


def parse(*_: Any) -> None: ...


def failed(*_: Any) -> None: ...


def plan_of(tmp_path: Path, heard: list[tuple[str, str | None]], **arguments: Any) -> RequestPlan:
    config = load_config(None, environ={"NEWSARCHIVE_ARCHIVE": str(tmp_path / "archive")})
    state = ArchiveState(LocalStore(tmp_path / "archive"), tmp_path / "spool")
    stats = new_stats()
    ledger = OutcomeLedger(stats, state, "futu", LOG, [lambda n, i: heard.append((n, i))])
    return RequestPlan(
        "futu",
        RunArguments.read(**arguments),
        parser=PARSERS["futu"],
        state=state,
        stats=stats,
        ledger=ledger,
        logger=LOG,
        revisit=config.revisit,
        retry=config.retry,
        base_url="http://127.0.0.1:9/",
        allowed_domains=["127.0.0.1"],
        callbacks=ArticleCallbacks(parse, failed),
        url_limit=2083,
    )


def test_a_listed_article_outside_the_range_or_the_site_is_counted_not_fetched(
    tmp_path: Path,
) -> None:
    plan = plan_of(tmp_path, [], since="2026-11-01", until="2026-11-30", full="1")
    october = datetime(2026, 10, 31, 23, 0, tzinfo=BEIJING)
    december = datetime(2026, 12, 1, 0, 0, tzinfo=BEIJING)
    assert asyncio.run(plan.discovered(ARTICLE, october, "sitemap")) is None
    assert asyncio.run(plan.discovered(ARTICLE, december, "sitemap")) is None
    assert asyncio.run(plan.discovered("https://example.com/x", None, "sitemap")) is None
    stats = plan.stats
    assert (
        stats.get_value(Stat.TOO_OLD),
        stats.get_value(Stat.TOO_NEW),
        stats.get_value(Stat.OFFSITE_REFUSED),
    ) == (1, 1, 1)
    assert plan.high_water == december  # the newest listed time, even when out of range


def test_a_new_article_is_requested_once_through_the_configured_base(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, [], full=True)
    published = datetime.now(BEIJING) - timedelta(hours=1)
    request = asyncio.run(plan.discovered(ARTICLE, published, "sitemap"))
    assert isinstance(request, Request)
    assert request.url == "http://127.0.0.1:9/post/62202518"
    assert request.callback is parse and request.errback is failed
    assert asyncio.run(plan.discovered(ARTICLE + "?again=1", published, "flash")) is None
    assert plan.stats.get_value(Stat.REQUESTED) == 1 and plan.stats.get_value(Stat.DISCOVERED) == 2


def test_a_url_over_the_length_limit_ends_in_its_outcome_and_the_listeners_hear_it(
    tmp_path: Path,
) -> None:
    heard: list[tuple[str, str | None]] = []
    plan = plan_of(tmp_path, heard)
    plan.url_limit = 20
    assert plan.article_request(ARTICLE) is None
    assert heard == [("url_too_long", "62202518-zh-CN")]
    assert plan.stats.get_value(Stat.of_outcome("url_too_long")) == 1


def test_bad_run_arguments_are_a_usage_error() -> None:
    from scrapy.exceptions import UsageError

    with pytest.raises(UsageError):
        RunArguments.read(since="yesterday")


def test_a_listing_that_is_not_json_is_a_discovery_error() -> None:
    stats = new_stats()
    listing = ListingReader(stats, LOG)
    response = HtmlResponse("http://127.0.0.1:9/list", body=b"<html>busy</html>")
    assert listing.json(response) is None
    assert stats.get_value(Stat.DISCOVERY_ERRORS) == 1
