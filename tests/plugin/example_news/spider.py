"""The example site's spider: manual URL runs only (it lists nothing)."""

from __future__ import annotations

from collections.abc import Iterable

import scrapy

from crawler.spiders.base import ArticleSpider


class ExampleSpider(ArticleSpider):
    name = site = "example"

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        return []
