"""The shared vocabulary of crawling and archiving: what a parser returns and what a spider
hands to the pipelines.

Plain dataclasses with no lxml and no Scrapy, so the archive side (pipelines/) and the readers
can use them without loading a parser or a crawler (itemadapter makes dataclasses first-class
Scrapy items).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

# Both sites show Beijing/Hong Kong time (UTC+8, no daylight saving): article days in the
# archive are Beijing days, the date a reader of the site sees.
BEIJING = timezone(timedelta(hours=8), "UTC+08:00")


def parse_day(value: str) -> date:
    """A YYYY-MM-DD day as people type it (`--since`, `-a since=`); ValueError names the form."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"dates are YYYY-MM-DD, got {value!r}") from None


def beijing_midnight(day: date) -> datetime:
    """The moment a Beijing day starts: "published since" compares moments with it."""
    return datetime.combine(day, time(), tzinfo=BEIJING)


# Article.extraction of text that the generic extractor gave (crawler/parsers/generic.py).
GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class Article:
    """One clean article as archived; `paragraphs` keeps the reading order of the page."""

    site: str
    id: str
    url: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    language: str
    parser: str
    parser_version: str
    machine_translated: bool = False
    original_title: str | None = None
    outlet: str | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    summary: str | None = None
    tickers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # "generic" when no layout of the site's parser recognised the page and the text comes
    # from the generic extractor (crawler/parsers/generic.py); None: a site layout read it.
    extraction: str | None = None
    layout_tried: str | None = None  # with generic text: the layout the page was tried against

    @property
    def text(self) -> str:
        """Clean text as a reader sees it: one paragraph per block, blank line between."""
        return "\n\n".join(self.paragraphs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping; datetimes become ISO-8601 strings with their offset."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["text"] = self.text
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Inverse of `to_dict`, for readers of the archive."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["published"] = datetime.fromisoformat(kwargs["published"])
        for name in ("paragraphs", "tickers", "tags", "images"):
            kwargs[name] = tuple(kwargs.get(name) or ())
        return cls(**kwargs)


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
    # Where the exchange was captured (pipelines.warc.WarcRef as a dict), else None: then
    # the archive keeps the body itself as a `raw/` object.
    capture: dict[str, Any] | None = None
    # A page fetched from a web archive, not the site: which archive, collection, capture
    # time and where its bytes are (crawler/webarchive/cdx.py Capture.provenance).
    fetched_from: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (the body as base64), for the spool."""
        import base64

        out = dataclasses.asdict(self)
        out["body"] = base64.b64encode(self.body).decode("ascii")
        out["fetched_at"] = self.fetched_at.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FetchedPage:
        import base64

        values = dict(data)
        values["body"] = base64.b64decode(values["body"])
        values["fetched_at"] = datetime.fromisoformat(values["fetched_at"])
        return cls(**values)


@dataclass(frozen=True)
class ArticleItem:
    """A page that parsed into an article."""

    page: FetchedPage
    article: Article
    # Discovery looked this id up in the index moments ago and found nothing: the archiver may
    # skip reading for an existing record (a conditional put still guards against a race).
    unindexed: bool = False
    # Set on a revisit of an archived article: {"start": ISO time, "removed": bool}, the
    # schedule it is on and whether it was last seen gone (then it has returned).
    revisit: dict[str, Any] | None = None


@dataclass(frozen=True)
class RemovedItem:
    """A revisit found an archived article gone: its page as served is the evidence."""

    page: FetchedPage
    detail: str  # how we know: "HTTP 404", "redirected to ...", the site's deleted page
    revisit: dict[str, Any]


@dataclass(frozen=True)
class RejectedItem:
    """A page that gave no article: kept raw, with the reason, so nothing is lost."""

    page: FetchedPage
    reason: str  # parse_error | blocked | not_article | unsupported_url
    detail: str
    field: str | None = None
    kind: str | None = None


# What Scrapy's feed exports (`scrapy crawl <site> -O items.jsonl|.json|.csv`) write: one row
# per archived article, these fields in this order (crawler/settings.py FEED_EXPORT_FIELDS).
# Pages that are no article are kept raw in the archive, never rows of a feed.
FEED_FIELDS = (
    "site",
    "id",
    "version",
    "published",
    "title",
    "original_title",
    "summary",
    "language",
    "machine_translated",
    "outlet",
    "source",
    "author",
    "editor",
    "tickers",
    "tags",
    "images",
    "url",
    "source_url",
    "fetched_url",
    "fetched_at",
    "http_status",
    "rendered_by",
    "parser",
    "parser_version",
    "extraction",
    "layout_tried",
    "archive_status",
    "record_key",
    "text",
)


def feed_row(
    item: ArticleItem, status: str, record_key: str | None, version: int | None
) -> dict[str, Any]:
    """An archived article as a feed row: plain values only (lists of strings, no bytes)."""
    article = item.article.to_dict()
    page = item.page
    row = {
        **{name: article.get(name) for name in FEED_FIELDS if name in article},
        "version": version,
        "text": item.article.text,
        "source_url": page.source_url,
        "fetched_url": page.fetched_url,
        "fetched_at": page.fetched_at.isoformat(),
        "http_status": page.status,
        "rendered_by": page.rendered_by,
        "archive_status": status,  # archived, new_version, unchanged, or spooled (archive down)
        "record_key": record_key,
    }
    return {name: row.get(name) for name in FEED_FIELDS}
