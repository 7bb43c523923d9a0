"""What a fetched response is, as the archive and the outcome log keep it.

Pure functions of a Scrapy response (and the site's ref of it), which the spider calls from its
callbacks: the page kept raw with its headers and provenance, what the outcome log keeps of a
successful fetch for later revisits, and how a revisited page shows its article is gone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy.http import Response

from crawler.items import FetchedPage
from crawler.meta import PREVIOUS_CAPTURE, REVISIT, capture_of
from crawler.parsers import PageRejected
from crawler.parsers.base import PageRef
from crawler.webarchive.replay import as_captured


def fetched_page(
    site: str, response: Response, ref: PageRef, source_url: str, rendered: bool = False
) -> FetchedPage:
    """The response as the archive keeps it (raw body, headers, where it came from; for a
    web-archive capture, the capture's time and place)."""
    page = FetchedPage(
        site=site,
        page_id=ref.id,
        url=ref.url,
        source_url=source_url,
        fetched_url=response.url,
        status=response.status,
        headers=_headers(response),
        body=response.body,
        fetched_at=datetime.now(UTC),
        rendered_by="chromium" if rendered else None,
        capture=capture_of(response),
    )
    return as_captured(page, response)


def kept_of(
    page: FetchedPage, response: Response, published: datetime | None = None
) -> dict[str, Any]:
    """What the outcome log keeps of a successful fetch for later revisits: publication
    time, validators, the capture an identical payload would be a revisit of, and on a
    revisit the schedule it is on."""
    previous = response.meta.get(PREVIOUS_CAPTURE)
    capture = page.capture
    if capture is None or capture.get("record_type") != "response":
        capture = previous  # a revisit record or a 304: the original stays the reference
    headers = {k.lower(): v for k, v in page.headers.items()}
    kept: dict[str, Any] = {
        "published": published.isoformat() if published else None,
        "etag": headers.get("etag"),
        "last_modified": headers.get("last-modified"),
        "capture": capture,
    }
    revisit = response.meta.get(REVISIT)
    if revisit:
        kept.update(revisit=True, start=revisit["start"])
    return {k: v for k, v in kept.items() if v}


def removal(rejected: PageRejected, response: Response) -> str | None:
    """How a revisited page shows the article is gone, or None: the site's deleted page, or
    a redirect to a page that is no article (its home or a channel page). A challenge page
    is never a removal."""
    if rejected.reason == "removed":
        return rejected.detail
    redirected = response.meta.get("redirect_urls")
    if redirected and rejected.reason != "blocked":
        return f"redirected to {response.url}, which is no article ({rejected.reason})"
    return None


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
