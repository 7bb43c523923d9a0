"""Scrapy's own command line, where newsarchive knows better (crawler/settings.py
COMMANDS_MODULE): `scrapy crawl` exits with the run's status, as `newsarchive crawl` does.
Imports no newsarchive command module and no run starter."""
