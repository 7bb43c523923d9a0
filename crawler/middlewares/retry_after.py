"""Downloader middleware: a 429 or 503 that says when to come back (`Retry-After`, seconds or
an HTTP date) is believed. Scrapy's RetryMiddleware asks again at once and ignores the header;
here the answer is held until then, and every later request to that host is spaced at least
that far apart for the rest of the run (web archives and sites throttle a client that keeps
pushing). The wait is capped (`RETRY_AFTER_MAX`, seconds) so a wild value cannot hang a run.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

THROTTLED = frozenset({429, 503})
RETRY_AFTER_MAX = "RETRY_AFTER_MAX"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait, from a Retry-After value; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfter:
    """Holds a throttled answer until its Retry-After, and slows its host down from then on."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.cap = crawler.settings.getfloat(RETRY_AFTER_MAX, 300)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfter:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in THROTTLED:
            return response
        header = response.headers.get(b"Retry-After")
        wait = retry_after_seconds(header.decode("latin-1") if header else None)
        if not wait:
            return response
        wait = min(wait, self.cap)
        engine = self.crawler.engine
        if engine is not None:
            downloader = engine.downloader
            slot = downloader.slots.get(downloader.get_slot_key(request))
            if slot is not None:
                slot.delay = max(slot.delay, wait)
                slot.lastseen = time.monotonic()
        self.crawler.spider.logger.warning(  # type: ignore[union-attr]
            "%s answered %d: waiting %.0f s (Retry-After) before asking again",
            request.url,
            response.status,
            wait,
        )
        await asyncio.sleep(wait)
        return response
