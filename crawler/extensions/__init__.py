"""Scrapy extensions (crawler/settings.py EXTENSIONS): `report` writes a plain `scrapy crawl`'s
run report, `watchdog` stops a crawl that stalls. They import no command and no run starter.
"""
