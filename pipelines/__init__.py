"""The archive: one Scrapy item pipeline (`archive.py`) and its outage buffer (`spool.py`) over a
Scrapy-free archive library, one package per job: `store` (where bytes go), `records` (what an
archived article is), `state` (what the archive knows about crawling), `warc` (every HTTP
exchange, the standard way) and `read` (the read side)."""
