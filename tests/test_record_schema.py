"""Every stored record is checked against the record schema; one that departs is stored
anyway, counted and reported with its key."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema

from crawler.items import ArticleItem, FetchedPage
from crawler.mirror.fixtures import FIXTURES_DIR, iter_fixtures, load_fixture
from crawler.mirror.server import MirrorServer
from crawler.parsers import parse
from pipelines.records.record_schema import SCHEMA_PATH, record_problems
from pipelines.records.writer import archive_article
from pipelines.store import LocalStore
from tests.support.commands import newsarchive
from tests.support.configs import mirror_config
from tests.support.items import item_for

ARTICLES = [f for f in iter_fixtures() if f.read_by_layout]
SCHEMA = json.loads(SCHEMA_PATH.read_text())


def test_every_record_a_crawl_stores_fits_the_schema(tmp_path: Path, mirror: MirrorServer) -> None:
    config = mirror_config(tmp_path / "c.toml", mirror, tmp_path / "archive")
    urls = [x for f in ARTICLES for x in ("--url", f.url)]
    result = newsarchive("--config", str(config), "crawl", *urls)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "record schema" not in result.stdout
    records = sorted((tmp_path / "archive" / "articles").rglob("*.json"))
    assert len(records) == len(ARTICLES)
    checker = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for path in records:
        checker.validate(json.loads(path.read_text()))  # raises on the first departure


def test_a_record_that_departs_is_stored_and_says_how(tmp_path: Path) -> None:
    fixture = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")
    article = parse(fixture.url, fixture.body, fixture.headers)
    odd = dataclasses.replace(article, language="english", tickers=("baba",))
    page = FetchedPage(
        site=odd.site,
        page_id=odd.id,
        url=odd.url,
        source_url=fixture.url,
        fetched_url=fixture.url,
        status=200,
        headers=fixture.headers,
        body=fixture.body,
        fetched_at=odd.published,
    )
    store = LocalStore(tmp_path / "archive")
    result = archive_article(store, ArticleItem(page=page, article=odd))
    assert result.status == "archived" and store.exists(result.key)  # kept all the same
    assert [p.split(":")[0] for p in result.problems] == ["language", "tickers.0"]
    assert record_problems(json.loads(store.get(result.key) or b"{}")) == list(result.problems)


def test_the_compiled_check_rejects_every_departure_the_full_validator_finds(
    tmp_path: Path,
) -> None:
    """The fast path (the schema compiled once) must keep every check: for a valid record and
    for one departure of each kind, it agrees with jsonschema itself."""
    from pipelines.records.record_schema import _validator

    store = LocalStore(tmp_path / "archive")
    result = archive_article(store, item_for(FIXTURES_DIR / "tencent" / "current-window-data"))
    record = json.loads(store.get(result.key) or b"{}")
    assert result.problems == () and record_problems(record) == []
    departures = {
        "missing": lambda r: r.pop("title"),
        "type": lambda r: r.update(version="1"),
        "uri": lambda r: r.update(url="not a uri"),
        "date-time": lambda r: r.update(published="yesterday"),
        "pattern": lambda r: r.update(content_sha256="abc"),
        "enum or pattern": lambda r: r.update(language="english"),
        "list item": lambda r: r.update(tickers=["baba"]),
    }
    for kind, depart in departures.items():
        broken = json.loads(json.dumps(record))
        depart(broken)
        ok, _ = _validator().validate(broken)
        assert not ok, kind  # jsonschema itself rejects it
        assert record_problems(broken), kind  # and so does the compiled check
