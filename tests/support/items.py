"""Items as the spider hands them to the pipeline, built from a fixture page."""

from __future__ import annotations

from pathlib import Path

from crawler.items import ArticleItem, FetchedPage
from crawler.mirror.fixtures import load_fixture
from crawler.parsers import parse


def item_for(fixture_path: Path) -> ArticleItem:
    """The fixture's page parsed into an article, fetched as served (status 200)."""
    fixture = load_fixture(fixture_path)
    article = parse(fixture.url, fixture.body, fixture.headers)
    page = FetchedPage(
        site=article.site,
        page_id=article.id,
        url=article.url,
        source_url=fixture.url,
        fetched_url=fixture.url,
        status=200,
        headers=fixture.headers,
        body=fixture.body,
        fetched_at=article.published,
    )
    return ArticleItem(page=page, article=article)
