"""Benchmark scripts: each prints its figures; run one as `python bench/<name>.py`."""
