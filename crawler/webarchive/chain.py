"""`--all-captures`: an article's captures fetched one after another, oldest first.

Each change of an article's content becomes a version, and versions are numbered in the order
they are stored: the next capture of an article is only asked for once the one before it has
ended (its item passed the archive pipeline, or its outcome was counted without an article).
Fetched side by side, a newer capture could be stored as version 1 and the older as 2.
"""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.outcomes import ARCHIVING
from crawler.parsers.base import PageRef
from crawler.stats import Stat
from crawler.webarchive.cdx import Capture


class CaptureChain:
    """Mixin of the history spider: the captures still owed per article id."""

    crawler: Crawler
    site: str
    replay_request: Any
    # id -> (the article's request, its ref, the captures after the one in flight)
    later: dict[str, tuple[scrapy.Request, PageRef, list[Capture]]]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)  # type: ignore[misc]
        spider.later = {}
        crawler.signals.connect(spider.capture_archived, signal=signals.item_scraped)
        crawler.signals.connect(spider.capture_failed, signal=signals.item_error)
        return spider

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
            engine.crawl(self.replay_request(request, ref, captures[0]))

    def account(self, name: str, url: str, page_id: str | None, *args: Any, **kwargs: Any) -> None:
        super().account(name, url, page_id, *args, **kwargs)  # type: ignore[misc]
        if name not in ARCHIVING:  # no article to wait for: the next capture now
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
