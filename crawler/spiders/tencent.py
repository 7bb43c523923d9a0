"""Tencent news spider (news.qq.com/rain/a/<id> and its URL variants)."""

from __future__ import annotations

from crawler.spiders.base import ArticleSpider


class TencentSpider(ArticleSpider):
    """`scrapy crawl tencent -a url=https://news.qq.com/rain/a/<id>`"""

    name = "tencent"
    site = "tencent"
