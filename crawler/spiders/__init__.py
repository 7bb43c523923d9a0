"""The spiders: one per site, sharing the manual-run behaviour of `ArticleSpider`."""
