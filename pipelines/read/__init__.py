"""The read side: what `ls`, `show`, `search`, `verify`, `export` and the web reader stand on.

`reader` lists and opens archived articles through the day index, `exports` writes JSON Lines,
CSV and Parquet, `search` (with `query`, its query language) keeps the local
full-text index, `fixity` checks stored objects against their records, `wacz` packages WARC
captures for replay. It reads the store, the records and WARC; nothing below imports it.
"""
