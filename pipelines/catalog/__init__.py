"""The catalog: a Delta Lake table inside the archive listing every stored version with all
its fields, which readers and analysts' tools (DuckDB, pandas, Polars, Spark) read in place.

By job: `table` (the table: its columns, commits, reads, rebuild and compaction),
`location` (where it is, in delta-rs and pyarrow terms), `journal` (a run's rows, committed
once), `indexes` (the one hook writers hand each stored version to: day index and catalog).
The records stay the source of truth: `newsarchive catalog rebuild` makes the table again.
"""
