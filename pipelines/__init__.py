"""Item pipelines and the archive store (the store knows nothing of Scrapy)."""
