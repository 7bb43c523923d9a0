"""Judging a run and telling people: `summary` (a run's counts, problems and exit status),
`monitors` (run-over-run findings), `assess` (after each run: findings kept, alerts sent;
each site's health), `alerts`, `metrics`, `reports` (the stored run reports), `options`
(their `[monitors]`, `[alerts]`, `[metrics]` sections).

It imports no command and no run starter, and nothing here imports crawler.config: the
config imports `options`, and the callers hand over plain values.
"""
