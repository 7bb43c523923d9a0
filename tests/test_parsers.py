"""Every fixture against its reviewed expected.json, one test per site/case/field."""

from __future__ import annotations

from typing import Any

import pytest

from crawler.mirror.fixtures import Fixture, iter_fixtures
from crawler.parsers import PageRejected, parse
from tests.regenerate_expected import outcome_of

FIXTURES = list(iter_fixtures())
ARTICLE_FIELDS = [
    "site",
    "id",
    "url",
    "title",
    "original_title",
    "paragraphs",
    "text",
    "published",
    "language",
    "machine_translated",
    "outlet",
    "source",
    "author",
    "editor",
    "summary",
    "tickers",
    "tags",
    "images",
    "extra",
    "parser",
    "parser_version",
    "extraction",
    "layout_tried",
]


def _cases(kind: str) -> list[Any]:
    params = []
    for fixture in FIXTURES:
        expected = fixture.expected()
        if kind == "field" and expected.get("outcome") == "article":
            params += [pytest.param(fixture, f, id=f"{fixture.name}/{f}") for f in ARTICLE_FIELDS]
        elif kind == "outcome":
            params.append(pytest.param(fixture, id=f"{fixture.name}/outcome"))
        elif kind in ("must_contain", "must_not_contain"):
            params += [
                pytest.param(fixture, snippet, id=f"{fixture.name}/{kind}/{i}")
                for i, snippet in enumerate(expected.get(kind, []))
            ]
    return params


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, Any]]:
    return {fixture.name: outcome_of(fixture) for fixture in FIXTURES}


def test_every_site_has_at_least_eight_cases() -> None:
    by_site: dict[str, int] = {}
    for fixture in FIXTURES:
        by_site[fixture.site] = by_site.get(fixture.site, 0) + 1
    assert by_site.get("futu", 0) >= 8 and by_site.get("tencent", 0) >= 8, by_site


def test_every_fixture_has_reviewed_expectations() -> None:
    missing = [f.name for f in FIXTURES if "outcome" not in f.expected()]
    assert not missing, f"run tests/regenerate_expected.py and review: {missing}"


@pytest.mark.parametrize("fixture", _cases("outcome"))
def test_outcome(fixture: Fixture, outcomes: dict[str, dict[str, Any]]) -> None:
    expected = {k: v for k, v in fixture.expected().items() if k != "article"}
    actual = {k: v for k, v in outcomes[fixture.name].items() if k != "article"}
    expected.pop("must_contain", None), expected.pop("must_not_contain", None)
    assert actual == expected


@pytest.mark.parametrize(("fixture", "field"), _cases("field"))
def test_field(fixture: Fixture, field: str, outcomes: dict[str, dict[str, Any]]) -> None:
    actual = outcomes[fixture.name].get("article", {})
    assert actual.get(field) == fixture.expected()["article"][field]


@pytest.mark.parametrize(("fixture", "snippet"), _cases("must_contain"))
def test_text_must_contain(
    fixture: Fixture, snippet: str, outcomes: dict[str, dict[str, Any]]
) -> None:
    assert snippet in outcomes[fixture.name]["article"]["text"]


@pytest.mark.parametrize(("fixture", "snippet"), _cases("must_not_contain"))
def test_text_must_not_contain(
    fixture: Fixture, snippet: str, outcomes: dict[str, dict[str, Any]]
) -> None:
    article = outcomes[fixture.name]["article"]
    assert snippet not in article["text"]


def test_rejections_carry_the_url() -> None:
    for fixture in FIXTURES:
        if fixture.expected().get("outcome") == "article":
            continue
        with pytest.raises(PageRejected) as caught:
            parse(fixture.url, fixture.body, fixture.headers)
        assert fixture.url in str(caught.value)
