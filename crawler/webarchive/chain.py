"""`--all-captures`: an article's captures fetched one after another, oldest first.

Each change of an article's content becomes a version, and versions are numbered in the order
they are stored: the next capture of an article is only asked for once the one before it has
ended (its item passed the archive pipeline, or its outcome was counted without an article).
Fetched side by side, a newer capture could be stored as version 1 and the older as 2.

A plain object the web-archive source holds: it hears of stored items through Scrapy's
signals and of outcomes through the spider's outcome ledger, and hands the next capture to
the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.outcomes import ARCHIVING
from crawler.parsers.base import PageRef
from crawler.stats import Stat
from crawler.webarchive.cdx import Capture

Replay = Callable[[scrapy.Request, PageRef, Capture], scrapy.Request]


class CaptureChain:
    """The captures still owed per article id, each asked for when the one before ended."""

    def __init__(self, crawler: Crawler, site: str, replay: Replay) -> None:
        self.crawler, self.site, self.replay = crawler, site, replay
        # id -> (the article's request, its ref, the captures after the one in flight)
        self.later: dict[str, tuple[scrapy.Request, PageRef, list[Capture]]] = {}
        crawler.signals.connect(self.capture_archived, signal=signals.item_scraped)
        crawler.signals.connect(self.capture_failed, signal=signals.item_error)

    def chain(self, request: scrapy.Request, ref: PageRef, captures: list[Capture]) -> None:
        """Fetch `captures` of this article after the one `request` is about to fetch."""
        if captures:
            self.later[ref.id] = (request, ref, captures)

    def next_capture(self, article_id: str | None) -> None:
        if article_id is None or article_id not in self.later:
            return
        request, ref, captures = self.later.pop(article_id)
        self.chain(request, ref, captures[1:])
        self.crawler.stats.inc_value(Stat.REQUESTED)  # each capture ends in its own outcome
        engine = self.crawler.engine
        if engine is not None:
            engine.crawl(self.replay(request, ref, captures[0]))

    def outcome(self, name: str, page_id: str | None) -> None:
        """An outcome the ledger counted: with no article to wait for, the next capture now."""
        if name not in ARCHIVING:
            self.next_capture(page_id)

    def capture_archived(self, item: Any, response: Any = None, spider: Any = None) -> None:
        # What the archive pipeline passes on for a stored article: its feed row.
        if isinstance(item, dict) and item.get("site") == self.site:
            self.next_capture(str(item.get("id")))

    def capture_failed(
        self, item: Any, response: Any = None, spider: Any = None, failure: Any = None
    ) -> None:
        if isinstance(item, ArticleItem):
            self.next_capture(item.page.page_id)
