"""Run-over-run monitors: is this run of a site far from what comparable runs did?

spidermon's monitors see one run; its run-over-run comparison needs Scrapy Cloud. Ours read the
run reports the archive keeps (`runs/`, crawler/health/reports.py): a run is compared only with runs
of the same kind and scheduler job, and, when there are enough of them, at the same hour of
the day (and weekday): a Sunday-night run is not held against Monday mornings. Each finding
names the numbers it compared, so an alert reads as evidence, not as a verdict.

Findings are kept in the run report (the runs page, `runs --health`) and as lines of the
archive-state log (pipelines/state/), the one home of per-site bookkeeping. No Scrapy.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crawler.health.options import LEVELS, MonitorConfig
from crawler.stats import counted

RUN_WIDE = "all sites"  # the "site" of a finding about the run, not one site


@dataclass(frozen=True)
class Finding:
    site: str
    name: str  # archived_collapse, layout_broken, parse_errors, blocked, coverage_<field>,
    # discovery_broken, nothing_new, pending_uploads
    level: str  # LEVELS
    detail: str  # the numbers compared, for people

    def to_dict(self) -> dict[str, str]:
        return {"site": self.site, "name": self.name, "level": self.level, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(str(data["site"]), str(data["name"]), str(data["level"]), str(data["detail"]))


def comparable(
    report: dict[str, Any], history: list[dict[str, Any]], config: MonitorConfig
) -> list[dict[str, Any]]:
    """The earlier runs this one is judged against, newest first: same kind and job; of those,
    the ones in the same hour window of the day (and weekday) when there are enough."""
    started = _when(report)
    same = [
        r
        for r in history
        if r.get("kind") == report.get("kind")
        and r.get("job") == report.get("job")
        and _when(r) < started
    ]
    same.sort(key=_when, reverse=True)
    in_window = [r for r in same if _hours_apart(_when(r), started) <= config.hour_window]
    weekday = [r for r in in_window if _when(r).weekday() == started.weekday()]
    for chosen in (weekday, in_window):
        if len(chosen) >= config.min_history:
            return chosen[: config.history]
    return same[: config.history]


def evaluate(
    report: dict[str, Any], history: list[dict[str, Any]], config: MonitorConfig
) -> list[Finding]:
    """What is wrong with this run, site by site, against the comparable runs."""
    earlier = comparable(report, history, config)
    findings = []
    for site, counts in sorted(report.get("sites", {}).items()):
        past = [r["sites"][site] for r in earlier if site in r.get("sites", {})]
        findings += _site_findings(site, counts, past, report, earlier, config)
    pending = int(report.get("pending_uploads") or 0)
    if pending:
        findings.append(
            Finding(
                RUN_WIDE,
                "pending_uploads",
                "warning",
                f"{pending} archive writes wait in the spool",
            )
        )
    return findings


def _site_findings(
    site: str,
    counts: dict[str, Any],
    past: list[dict[str, Any]],
    report: dict[str, Any],
    earlier: list[dict[str, Any]],
    config: MonitorConfig,
) -> list[Finding]:
    found = []
    archived = _articles(counts)
    if len(past) >= config.min_history:
        median = statistics.median(_articles(p) for p in past)
        if median >= config.min_median and archived < config.collapse_ratio * median:
            found.append(
                Finding(
                    site,
                    "archived_collapse",
                    "critical",
                    f"archived {archived}, median of {len(past)} comparable runs {median:g} "
                    f"(below {config.collapse_ratio:.0%} of it)",
                )
            )
        found += _coverage(site, counts, past, config)
        found += _layout_jump(site, counts, past, config)
    fetched = int(counts.get("fetched") or 0)
    outcomes = counts.get("outcomes") or {}
    rejected = sum(int(outcomes.get(n, 0)) for n in ("parse_error", "layout_changed"))
    for name, bad, what, limit in (
        ("parse_errors", rejected, "unparsable", config.parse_error_ratio),
        ("blocked", int(outcomes.get("blocked", 0)), "challenge pages", config.blocked_ratio),
    ):
        if fetched and bad / fetched > limit:
            detail = f"{bad} of {fetched} fetched pages {what} ({bad / fetched:.0%}, "
            found.append(Finding(site, name, "warning", detail + f"threshold {limit:.0%})"))
    errors = int(counts.get("discovery_errors") or 0)
    if errors:
        detail = f"{errors} listing errors: the listings changed shape or failed"
        found.append(Finding(site, "discovery_broken", "critical", detail))
    if report.get("kind") == "discovery" and archived == 0:
        last_new = next(
            (_when(r) for r in earlier if _articles(r.get("sites", {}).get(site, {})) > 0), None
        )
        age = _when(report) - last_new if last_new else None
        if age is not None and age > timedelta(hours=config.stale_hours):
            found.append(
                Finding(
                    site,
                    "nothing_new",
                    "warning",
                    f"no new article for {age.total_seconds() / 3600:.0f} hours "
                    f"(expected within {config.stale_hours:g})",
                )
            )
    return found


# Outcomes of a page that no layout of its site read (crawler/outcomes.py).
UNREAD = ("layout_unknown", "layout_changed", "parse_error")
TRIED = re.compile(r"\btried (?P<layout>[\w./-]+)")


def _unread_share(counts: dict[str, Any]) -> float | None:
    fetched = int(counts.get("fetched") or 0)
    outcomes = counts.get("outcomes") or {}
    return sum(int(outcomes.get(name, 0)) for name in UNREAD) / fetched if fetched else None


def _layout_jump(
    site: str, counts: dict[str, Any], past: list[dict[str, Any]], config: MonitorConfig
) -> list[Finding]:
    """A layout that starts to fail on one night: the share of pages no layout read jumps
    against the comparable runs. Names the layout the pages were tried against and one URL,
    so the alert says where to look."""
    share = _unread_share(counts)
    shares = [s for s in map(_unread_share, past) if s is not None]
    if share is None or len(shares) < config.min_history:
        return []
    usual = statistics.median(shares)
    if share - usual < config.layout_jump:
        return []
    failures = [f for f in counts.get("failures") or () if f.get("reason") in UNREAD]
    layouts = Counter(
        m["layout"] for f in failures if (m := TRIED.search(str(f.get("detail") or "")))
    )
    layout = layouts.most_common(1)[0][0] if layouts else "unknown"
    example = next((str(f["url"]) for f in failures), "none listed")
    unread = round(share * int(counts.get("fetched") or 0))
    return [
        Finding(
            site,
            "layout_broken",
            "critical",
            f"{unread} of {counted(int(counts['fetched']), 'fetched page')} read by no layout "
            f"({share:.0%}; usually {usual:.0%} over {len(shares)} comparable runs): layout "
            f"{layout}, e.g. {example}",
        )
    ]


def _coverage(
    site: str, counts: dict[str, Any], past: list[dict[str, Any]], config: MonitorConfig
) -> list[Finding]:
    """Fields whose share of the archived articles fell well below their recent level."""
    articles = _articles(counts)
    if articles < config.min_median:
        return []
    found = []
    for name, have in sorted((counts.get("coverage") or {}).items()):
        shares = [
            p["coverage"][name] / _articles(p)
            for p in past
            if _articles(p) and name in (p.get("coverage") or {})
        ]
        if len(shares) < config.min_history:
            continue
        usual = statistics.median(shares)
        share = int(have) / articles
        if usual - share > config.coverage_drop:
            found.append(
                Finding(
                    site,
                    f"coverage_{name}",
                    "warning",
                    f"{name} on {have} of {counted(articles, 'article')} ({share:.0%}), usually "
                    f"{usual:.0%} over {len(shares)} comparable runs",
                )
            )
    return found


def _articles(counts: dict[str, Any]) -> int:
    return int(counts.get("archived") or 0) + int(counts.get("new_versions") or 0)


def _when(report: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(report["started"]))


def _hours_apart(a: datetime, b: datetime) -> float:
    """Hours between the times of day of two moments (23:00 and 01:00 are 2 apart)."""
    minutes = abs((a.hour * 60 + a.minute) - (b.hour * 60 + b.minute))
    return min(minutes, 24 * 60 - minutes) / 60


def at_least(level: str, minimum: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(minimum)
