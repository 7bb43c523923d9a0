"""The Chromium download handler with a hard deadline per rendered page.

scrapy-playwright bounds navigation and each page method with its own timeouts, but not the
whole exchange (creating the page, a challenge that keeps reloading, reading the content):
a render can wait forever, and then the crawl never closes and its site lock is never
released. Here every rendered request is cancelled at its deadline (`render_timeout` plus a
margin, in the request's meta) and fails like any download, so the spider's errback keeps the
challenge page as blocked. Imported only when rendering is on (it loads Playwright).

scrapy-playwright logs every failed render as a warning with Playwright's traceback; the
spider says the same in one line (`blocked: URL (rendering failed: why)`), so that record is
dropped here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.rendering import RENDER_DEADLINE


class RenderTimeout(Exception):
    """A rendered page took longer than its deadline."""


PLAYWRIGHT_LOGGER = "scrapy-playwright"


def not_a_failed_render(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("Closing page due to failed request")


class BoundedRenderHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        logger = logging.getLogger(PLAYWRIGHT_LOGGER)
        if not_a_failed_render not in logger.filters:
            logger.addFilter(not_a_failed_render)

    async def download_request(self, request: Request) -> Response:
        deadline = request.meta.get(RENDER_DEADLINE)
        if not request.meta.get("playwright") or deadline is None:
            return await super().download_request(request)
        try:
            return await asyncio.wait_for(super().download_request(request), float(deadline))
        except TimeoutError:
            raise RenderTimeout(f"rendering took longer than {deadline:.0f} s") from None
