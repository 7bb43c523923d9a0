"""Futu news spider (news.futunn.com and the moomoo mirror)."""

from __future__ import annotations

from crawler.spiders.base import ArticleSpider


class FutuSpider(ArticleSpider):
    """`scrapy crawl futu -a url=https://news.futunn.com/post/<id>/<slug>`"""

    name = "futu"
    site = "futu"
