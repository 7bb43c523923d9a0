"""The backfill frontier and its workers: `frontier` (the shared Redis queue, claims and
progress), `seeder` (queueing article URLs by id, exactly once) and `workers` (scrapy-redis
workers over the site spiders).
"""
