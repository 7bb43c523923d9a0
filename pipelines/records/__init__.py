"""What an archived article is: its keys (`layout`), the record and how it is written
(`writer`, `record_schema`), the per-day index and its journal segments (`day_index`,
`journal`), and what changed between two versions (`versions`).

Builds on `pipelines.store` only: it imports nothing of the archive state, WARC, the read side
or the item pipeline.
"""
