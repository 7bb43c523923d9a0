"""The one table of what can become of a URL a run requests.

Every URL a crawl decides to fetch ends in exactly one of these outcomes, counted under its
name (crawler/stats.py `Stat.of_outcome`), recorded in the archive state's outcome log
(pipelines/state/) and, when it is a failure, listed in the run report. Each outcome says
whether it weighs against `crawl.max_failure_ratio` and whether later runs fetch the URL
again (the retry ledger, `[retry]` in the config). Reports, summaries and later features
(revisits, monitors) use these names and nothing else.

No Scrapy import: the readers, reports and the scheduler use the table too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """The summary groups outcomes by kind."""

    ARTICLE = "article"  # parsed into an article (archived, new version or unchanged)
    NOT_ARTICLE = "not_article"  # a real page that is not a text article: kept raw
    REJECTED = "rejected"  # fetched, not usable as it came: kept raw under rejected/
    FAILED = "failed"  # no usable response
    FILTERED = "filtered"  # not fetched (or not followed) on purpose


@dataclass(frozen=True)
class Outcome:
    name: str
    kind: Kind
    failure: bool  # weighs against crawl.max_failure_ratio and is listed in the run report
    retried: bool  # later runs fetch the URL again, with backoff, up to retry.max_attempts
    meaning: str


_TABLE = (
    Outcome("parsed", Kind.ARTICLE, False, False, "became an article"),
    Outcome("not_article", Kind.NOT_ARTICLE, False, False, "video, gallery or other non-text page"),
    Outcome(
        "removed",
        Kind.NOT_ARTICLE,
        False,
        False,
        "the site says the article is gone: its 'deleted' page, or on a revisit HTTP 404/410 "
        "or a redirect off the article",
    ),
    Outcome("not_modified", Kind.ARTICLE, False, False, "a revisit answered 304: unchanged"),
    Outcome(
        "parse_error",
        Kind.REJECTED,
        True,
        False,
        "looks like an article, a field could not be read; `reparse --rejected` recovers it",
    ),
    Outcome(
        "layout_changed",
        Kind.REJECTED,
        True,
        False,
        "the page matches no known layout of its site and the generic extractor found no "
        "article either; `reparse --rejected` after the fix",
    ),
    Outcome(
        "layout_unknown",
        Kind.ARTICLE,
        True,
        False,
        "no known layout of its site: archived with the generic extractor's text "
        "(extraction: generic); `reparse` replaces it once a layout exists",
    ),
    Outcome("empty_page", Kind.FAILED, True, True, "HTTP 200 with an empty body"),
    Outcome("blocked", Kind.REJECTED, True, True, "an anti-bot challenge instead of the article"),
    Outcome("timeout", Kind.FAILED, True, True, "no answer within crawl.download_timeout"),
    Outcome("server_error", Kind.FAILED, True, True, "HTTP 5xx after Scrapy's retries"),
    Outcome("rate_limited", Kind.FAILED, True, True, "HTTP 429 after Scrapy's retries"),
    Outcome(
        "connection_error",
        Kind.FAILED,
        True,
        True,
        "DNS failure, refused, reset or truncated connection",
    ),
    Outcome("redirect_loop", Kind.FAILED, True, True, "more redirects than REDIRECT_MAX_TIMES"),
    Outcome("gone", Kind.FAILED, True, False, "HTTP 404 or 410: not fetched again"),
    Outcome("http_error", Kind.FAILED, True, False, "another HTTP 4xx: not fetched again"),
    Outcome("offsite_redirect", Kind.FILTERED, False, False, "redirected to another host"),
    Outcome("url_too_long", Kind.FILTERED, False, False, "longer than URLLENGTH_LIMIT"),
    Outcome("robots", Kind.FILTERED, False, False, "disallowed by the site's robots.txt"),
)
OUTCOMES: dict[str, Outcome] = {outcome.name: outcome for outcome in _TABLE}
PARSED = "parsed"
LAYOUT_UNKNOWN = "layout_unknown"
# The outcomes whose page was archived as an article (site parser or generic text).
ARCHIVING = frozenset({PARSED, LAYOUT_UNKNOWN})
# Not a fetch outcome: the retry ledger's line for a URL that failed retry.max_attempts times.
GAVE_UP = "gave_up"
# Not a fetch outcome: `newsarchive backfill` put the URL on the shared frontier.
QUEUED = "queued"


def outcome(name: str) -> Outcome:
    """The table's entry (KeyError for a name that is not in it: a bug, not bad input)."""
    return OUTCOMES[name]


def names_of(kind: Kind) -> tuple[str, ...]:
    return tuple(o.name for o in _TABLE if o.kind is kind)


def failure_names() -> tuple[str, ...]:
    return tuple(o.name for o in _TABLE if o.failure)


def is_retried(name: str) -> bool:
    entry = OUTCOMES.get(name)
    return bool(entry and entry.retried)


def http_outcome(status: int) -> str:
    """The outcome of a final HTTP error status (after Scrapy's own retries)."""
    if status in (404, 410):
        return "gone"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "http_error"


# Scrapy's IgnoreRequest messages, by the outcome they mean (robots, redirects).
IGNORED_MESSAGES = {
    "robots": "Forbidden by robots.txt",
    "redirect_loop": "max redirections reached",
    "offsite_redirect": "offsite redirect",
}


def ignored_outcome(message: str) -> str:
    """The outcome of a request Scrapy (or our middleware) refused to follow."""
    for name, text in IGNORED_MESSAGES.items():
        if text in message:
            return name
    return "connection_error"
