"""Downloader middlewares (Scrapy's role; crawler/settings.py DOWNLOADER_MIDDLEWARES):
`robots` (robots.txt for every request), `offsite` (an off-site redirect ends in an outcome),
`capture` (every exchange into WARC) and `rate_limit` (frontier workers' shared per-site rate).

They import no command, no run starter and no run verdict: a middleware sees one crawler.
"""
