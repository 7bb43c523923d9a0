"""Which archived articles are owed a revisit, from the archive-state outcome log alone.

Sites edit articles after publication and delete some; a revisit fetches an archived article
again at fixed ages (`[revisit] ages`, such as 2 h, 1 d, 7 d after publication) to see it.
The schedule of an article starts at its publication time, or at its first fetch when it was
archived after its last age had already passed (a backfill, the demo's old pages): those are
checked at the same ages after we first saw them. An article is due when it crossed an age
since its last successful fetch; the oldest debt goes first, up to the run's budget; nothing
is revisited after the last age. A failed revisit (timeout, 5xx, challenge) settles nothing,
so the article stays due.

Everything comes from the outcome log lines (pipelines/state): each successful fetch line
carries what a revisit needs (publication time, schedule start, validators, capture).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Outcomes that settle a revisit (the page answered and we know what it is now).
SETTLED = frozenset({"parsed", "layout_unknown", "not_modified", "removed"})
# The outcomes that archived the page as an article (crawler/outcomes.py ARCHIVING).
ARCHIVED = frozenset({"parsed", "layout_unknown"})
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> timedelta:
    """`90s`, `30m`, `2h`, `1d`, `1w` (ValueError naming the form otherwise)."""
    match = _AGE.match(text)
    if match is None:
        raise ValueError(
            f"ages are a number and a unit (s, m, h, d, w), like 2h or 7d; got {text!r}"
        )
    return timedelta(seconds=float(match[1]) * _UNIT[match[2]])


@dataclass(frozen=True)
class RevisitPolicy:
    ages: tuple[timedelta, ...]  # ascending
    budget: int  # revisits per site and run
    lookback_days: int  # debts older than this past the last age are forgotten

    @property
    def last_age(self) -> timedelta:
        return self.ages[-1] if self.ages else timedelta(0)

    def window(self) -> timedelta:
        """How far back the outcome log must be read."""
        return self.last_age + timedelta(days=self.lookback_days)


@dataclass(frozen=True)
class RevisitDue:
    """One archived article owed a revisit, with what the request needs."""

    url: str
    page_id: str
    start: datetime  # when its schedule began (publication, or a late first fetch)
    owed_since: datetime  # the age it crossed: the debt's age orders the queue
    published: str | None
    capture: dict[str, Any] | None  # its last capture: an identical payload is a revisit record
    etag: str | None
    last_modified: str | None
    removed: bool  # last seen gone: a page that answers again has returned


@dataclass
class _Article:
    url: str
    first: datetime
    last: datetime
    published: str | None = None
    start: datetime | None = None
    capture: dict[str, Any] | None = None
    etag: str | None = None
    last_modified: str | None = None
    removed: bool = False


def due_revisits(
    lines: Iterable[dict[str, Any]], policy: RevisitPolicy, now: datetime
) -> list[RevisitDue]:
    """The revisits owed now, oldest debt first, at most `policy.budget`."""
    if not policy.ages or policy.budget <= 0:
        return []
    articles = _articles(lines)
    owed = []
    for page_id, article in articles.items():
        start = article.start or _start(article, policy)
        crossed = [start + age for age in policy.ages if start + age <= now]
        unpaid = [moment for moment in crossed if article.last < moment]
        if not unpaid or now - start - policy.last_age > timedelta(days=policy.lookback_days):
            continue
        owed.append(
            RevisitDue(
                url=article.url,
                page_id=page_id,
                start=start,
                owed_since=unpaid[0],
                published=article.published,
                capture=article.capture,
                etag=article.etag,
                last_modified=article.last_modified,
                removed=article.removed,
            )
        )
    owed.sort(key=lambda due: (due.owed_since, due.page_id))
    return owed[: policy.budget]


def _articles(lines: Iterable[dict[str, Any]]) -> dict[str, _Article]:
    """Per archived id, what its successful fetches say (lines in any order)."""
    articles: dict[str, _Article] = {}
    for line in sorted(lines, key=lambda entry: str(entry.get("at", ""))):
        page_id, outcome = line.get("id"), line.get("outcome")
        if not page_id or outcome not in SETTLED:
            continue
        at = datetime.fromisoformat(line["at"])
        article = articles.get(page_id)
        if article is None:
            if outcome not in ARCHIVED and not line.get("revisit"):
                continue  # never archived (a deleted page met on discovery): nothing to revisit
            article = articles[page_id] = _Article(url=line["url"], first=at, last=at)
        article.last = at
        article.removed = outcome == "removed"
        if line.get("start"):
            article.start = datetime.fromisoformat(line["start"])
        for name in ("published", "capture", "etag", "last_modified"):
            if line.get(name):
                setattr(article, name, line[name])
    return articles


def _start(article: _Article, policy: RevisitPolicy) -> datetime:
    """Publication time, unless the article was first archived after its last age."""
    if article.published:
        published = datetime.fromisoformat(article.published)
        if article.first - published < policy.last_age:
            return published
    return article.first
