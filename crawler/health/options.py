"""The `[monitors]`, `[alerts]` and `[metrics]` sections, as crawler/config.py validates them.

Their own module, importing nothing of crawler/health/ or crawler.config: the config reads
them, and the judging modules take them as plain values, so neither imports the other back
(the storage side's `StoreOptions` and `WarcOptions` have the same shape).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("warning", "critical")  # a finding's level, lowest first


@dataclass(frozen=True)
class MonitorConfig:
    """`[monitors]`: how many comparable runs are read, and when a difference is a finding."""

    history: int = field(default=10, metadata={"minimum": 1})  # comparable runs compared with
    min_history: int = field(default=3, metadata={"minimum": 1})  # fewer: no comparison yet
    # archived below this share of the comparable runs' median (a median of at least
    # min_median articles: a site that archives 2 a night is not judged on 1)
    collapse_ratio: float = field(default=0.5, metadata={"minimum": 0, "maximum": 1})
    min_median: float = field(default=4, metadata={"minimum": 0})
    parse_error_ratio: float = field(default=0.05, metadata={"minimum": 0, "maximum": 1})
    # the share of fetched pages no layout read (generic text, layout changed, parse errors)
    # this far above its median over the comparable runs (0.2 = 20 points): critical
    layout_jump: float = field(default=0.2, metadata={"minimum": 0, "maximum": 1})
    blocked_ratio: float = field(default=0.2, metadata={"minimum": 0, "maximum": 1})
    # a field's share of archived articles this far below its median share (0.25 = 25 points)
    coverage_drop: float = field(default=0.25, metadata={"minimum": 0, "maximum": 1})
    # a discovery run that archives nothing when the site's last new article is this old
    stale_hours: float = field(default=36, metadata={"minimum": 1})
    hour_window: int = field(default=3, metadata={"minimum": 0, "maximum": 12})


@dataclass(frozen=True)
class AlertOptions:
    """`[alerts]`: apprise URLs, and the lowest level that is sent."""

    urls: tuple[str, ...] = ()
    min_level: str = field(default="warning", metadata={"choices": LEVELS})


@dataclass(frozen=True)
class MetricsOptions:
    """`[metrics]`: where the textfile collector reads (a path ending in .prom), or ""."""

    textfile: str = ""


@dataclass(frozen=True)
class HealthOptions:
    """What judging a run and telling people take from the config (`Config.health()`), as
    plain values."""

    monitors: MonitorConfig
    alerts: AlertOptions
    metrics: MetricsOptions
    spool_dir: str  # where the archive state journals the findings before they are published
    sites: tuple[str, ...]  # every configured site: a run-wide finding is recorded for each
