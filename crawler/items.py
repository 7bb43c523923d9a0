"""What the spiders hand to the pipelines: plain dataclasses, so the archive code that reads
them needs no Scrapy import (itemadapter makes dataclasses first-class Scrapy items)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.parsers.article import Article


@dataclass(frozen=True)
class FetchedPage:
    """One response exactly as served, plus where it came from."""

    site: str
    page_id: str | None
    url: str  # canonical article URL on the real site
    source_url: str  # the URL we were asked to archive (may be a variant or a mirror)
    fetched_url: str  # what was actually requested (live site or local mirror)
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    # "chromium" when the page had to be rendered (a challenge page), else None.
    rendered_by: str | None = None


@dataclass(frozen=True)
class ArticleItem:
    """A page that parsed into an article."""

    page: FetchedPage
    article: Article
    # Discovery looked this id up in the index moments ago and found nothing: the archiver may
    # skip reading for an existing record (a conditional put still guards against a race).
    unindexed: bool = False


@dataclass(frozen=True)
class RejectedItem:
    """A page that gave no article: kept raw, with the reason, so nothing is lost."""

    page: FetchedPage
    reason: str  # parse_error | blocked | not_article | unsupported_url
    detail: str
    field: str | None = None
    kind: str | None = None
