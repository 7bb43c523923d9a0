"""Opt-in rendering of challenge pages in the system Chromium (scrapy-playwright).

Some sites' WAFs answer plain HTTP clients with a script that sets a cookie and reloads; the
site parser rejects such a page as "blocked" and names a `ready_selector`. With
`crawl.render_challenges` on, a page that came back as such a challenge is fetched once more
through a headless Chromium, which runs the script; every other request still goes through
Scrapy's plain HTTP download handler, so rendering costs nothing on pages that do not need
it. The browser is Debian's `chromium` package, never a browser downloaded by Playwright.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.config import CrawlConfig

# Headless, and quiet on the network: no component updates, sync, metrics or first-run calls,
# which would otherwise hammer a closed network with refused connections at every start.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
# What a page needs to run its challenge: the document, scripts and their XHR. Pictures,
# fonts and styles are refused, so a render loads nothing the parser does not read.
SKIPPED_RESOURCES = frozenset({"image", "media", "font", "stylesheet", "texttrack", "manifest"})
PLAYWRIGHT_HANDLER = "crawler.rendering.handler.BoundedRenderHandler"
# Request meta: the seconds after which a rendered fetch is cancelled (render_handler.py).
RENDER_DEADLINE = "newsarchive_render_deadline"
# Beyond render_timeout: launching the browser, opening the page, reading the DOM.
RENDER_MARGIN_SECONDS = 10


def render_settings(crawl: CrawlConfig, schemes: Iterable[str]) -> dict[str, Any]:
    """Scrapy settings that make `playwright=True` requests go through Chromium.

    Only the schemes the site is fetched over get the handler: Scrapy makes one handler per
    scheme, and each would start its own Playwright driver.
    """
    return {
        "DOWNLOAD_HANDLERS": {scheme: PLAYWRIGHT_HANDLER for scheme in sorted(set(schemes))},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": crawl.chromium_path,
            "headless": True,
            "args": list(CHROMIUM_ARGS),
            "timeout": crawl.render_timeout * 1000,
        },
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": crawl.render_timeout * 1000,
        "PLAYWRIGHT_ABORT_REQUEST": "crawler.rendering.skip_resource",
    }


def skip_resource(request: Any) -> bool:
    """scrapy-playwright hook: refuse the resources a challenge does not need."""
    return request.resource_type in SKIPPED_RESOURCES


def render_meta(ready_selector: str, timeout_seconds: float) -> dict[str, Any]:
    """Request meta for one rendered fetch: done when the article container exists.

    Waiting for the selector (not for `load`) is what lets the challenge set its cookie and
    reload first; Playwright's wait survives that navigation.
    """
    from scrapy_playwright.page import PageMethod

    return {
        "playwright": True,
        RENDER_DEADLINE: timeout_seconds + RENDER_MARGIN_SECONDS,
        "playwright_page_methods": [
            PageMethod(
                "wait_for_selector",
                ready_selector,
                state="attached",
                timeout=timeout_seconds * 1000,
            )
        ],
    }


def chromium_problem(chromium_path: str) -> str | None:
    """Why rendering cannot work with this browser path (a configuration error), or None."""
    if not os.path.isfile(chromium_path):
        return (
            f"setting 'crawl.chromium_path': no browser at {chromium_path} "
            "(install Debian's chromium package, or point the setting at it)"
        )
    if not os.access(chromium_path, os.X_OK):
        return f"setting 'crawl.chromium_path': {chromium_path} is not executable"
    return None
