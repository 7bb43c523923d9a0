"""Stat names, the summary's counter tables, and the exit statuses.

One home for the names the spiders and the archive pipeline count under (Scrapy's stats
collector), for which of them the summary shows (the summary itself is
crawler/health/summary.py), and for the exit statuses cron sees. No Scrapy import: the
pipelines read it too.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from crawler.outcomes import PARSED, Kind, names_of, outcome

OUTCOME_STAT_PREFIX = "newsarchive/outcome/"


class Exit(IntEnum):
    """What `newsarchive` returns: cron and the scheduler read these."""

    OK = 0
    PROBLEMS = 1  # the run finished, with problems (failed pages, broken discovery, ...)
    USAGE = 2  # configuration or usage error: nothing was crawled


class Stat(StrEnum):
    """Every stat newsarchive counts, under Scrapy's stats collector."""

    DISCOVERED = "newsarchive/discovered"
    ALREADY_ARCHIVED = "newsarchive/already_archived"
    TOO_OLD = "newsarchive/too_old"
    TOO_NEW = "newsarchive/too_new"  # published after `--until`
    OFFSITE_REFUSED = "newsarchive/offsite_refused"
    DISCOVERY_ERRORS = "newsarchive/discovery_errors"
    LISTED_NON_ARTICLES = "newsarchive/listed_non_articles"
    REQUESTED = "newsarchive/requested"  # article URLs this run decided to fetch
    RETRIED = "newsarchive/retried"  # of those, failed pages of earlier runs (retry ledger)
    GAVE_UP = "newsarchive/gave_up"  # failed pages given up after retry.max_attempts
    FETCHED = "newsarchive/fetched"  # responses handed to the parser (a render is not one more)
    RENDERED = "newsarchive/rendered"  # challenge pages fetched again in Chromium
    UNSUPPORTED_URL = "newsarchive/unsupported_url"
    # Archived articles (new or new versions) that carry each field: the field coverage the
    # monitors compare run over run (a parser that stops finding authors shows here).
    FIELD_AUTHOR = "newsarchive/fields/author"
    FIELD_OUTLET = "newsarchive/fields/outlet"
    FIELD_SOURCE = "newsarchive/fields/source"
    FIELD_TICKERS = "newsarchive/fields/tickers"
    FRONTIER_CLAIMED = "newsarchive/frontier/claimed"  # a worker's entries from the frontier
    # Claims a worker made while it still held pages, instead of waiting to run dry.
    FRONTIER_CLAIMED_AHEAD = "newsarchive/frontier/claimed_ahead"
    RATE_WAITED = "newsarchive/frontier/rate_waited"  # requests held for the shared rate limit
    # Pages that failed, with URLs, for the run report (a list, not a count).
    FAILURE_LIST = "newsarchive/failure_list"
    # 1 when a run asked for articles older than any of its discovery sources lists.
    BEYOND_REACH = "newsarchive/beyond_reach"
    # Why the spider closed ("finished", "shutdown" for SIGTERM, "stalled", ...).
    CLOSE_REASON = "newsarchive/close_reason"
    # The exit status of the run report a plain `scrapy crawl` stored (crawler/scrapy_commands).
    EXIT_STATUS = "newsarchive/exit_status"
    # What the archive pipeline did with each item (records/writer.py ArchiveResult.status).
    ARCHIVED = "newsarchive/archive/archived"
    NEW_VERSION = "newsarchive/archive/new_version"
    UNCHANGED = "newsarchive/archive/unchanged"
    REJECTED = "newsarchive/archive/rejected"
    REJECTED_SEEN = "newsarchive/archive/rejected_seen"
    SPOOLED = "newsarchive/archive/spooled"
    FLUSHED = "newsarchive/archive/flushed"
    PENDING = "newsarchive/archive/pending"
    LOST = "newsarchive/archive/lost"  # neither archived nor spooled: the run stops
    # Stored records that do not match the record schema (pipelines/records/record_schema.json), and
    # which (a list, for the run report).
    INVALID_RECORDS = "newsarchive/archive/invalid_records"
    INVALID_LIST = "newsarchive/archive/invalid_list"
    # Revisits of archived articles ([revisit]): requested, and what they found.
    REVISITED = "newsarchive/revisit/requested"
    REVISIT_UNCHANGED = "newsarchive/revisit/unchanged"
    REVISIT_CHANGED = "newsarchive/revisit/changed"
    REVISIT_REMOVED = "newsarchive/revisit/removed"
    REVISIT_RETURNED = "newsarchive/revisit/returned"
    # WARC capture (crawler/middlewares/capture.py): records written by type, and files stored.
    WARC_FAILED = "newsarchive/warc/failed"  # the capture stopped (local disk): raw kept
    WARC_STORED = "newsarchive/warc/files_stored"
    WARC_PENDING = "newsarchive/warc/files_pending"

    def __repr__(self) -> str:
        # Scrapy's end-of-crawl stats dump shows keys by repr: show the plain name.
        return repr(self.value)

    @staticmethod
    def of_outcome(name: str) -> str:
        """The counter of one outcome of crawler/outcomes.py ("parsed", "timeout", ...)."""
        return f"{OUTCOME_STAT_PREFIX}{outcome(name).name}"

    @staticmethod
    def of_warc_record(record_type: str) -> str:
        """Records of one WARC type written (response, revisit, conversion)."""
        return f"newsarchive/warc/{record_type}"

    @classmethod
    def of_archive_status(cls, status: str) -> Stat:
        return cls(f"newsarchive/archive/{status}")


# The summary's counters, in the order the summary line prints them: plain stats, and groups
# of outcomes (crawler/outcomes.py) under one name.
COUNTERS: dict[str, Stat] = {
    "discovered": Stat.DISCOVERED,
    "already_archived": Stat.ALREADY_ARCHIVED,
    "too_old": Stat.TOO_OLD,
    "too_new": Stat.TOO_NEW,
    "offsite_refused": Stat.OFFSITE_REFUSED,
    "discovery_errors": Stat.DISCOVERY_ERRORS,
    "requested": Stat.REQUESTED,
    "retried": Stat.RETRIED,
    "fetched": Stat.FETCHED,
}
OUTCOME_GROUPS: dict[str, tuple[str, ...]] = {
    "parsed": (PARSED,),
    "not_modified": ("not_modified",),
    "not_articles": names_of(Kind.NOT_ARTICLE),
    "parse_errors": ("parse_error",),
    "layout_changed": ("layout_changed",),
    "layout_unknown": ("layout_unknown",),
    "blocked": ("blocked",),
    "fetch_failed": names_of(Kind.FAILED),
    "filtered": names_of(Kind.FILTERED),
}
ARCHIVE_COUNTERS: dict[str, Stat] = {
    "archived": Stat.ARCHIVED,
    "new_versions": Stat.NEW_VERSION,
    "unchanged": Stat.UNCHANGED,
    "rendered": Stat.RENDERED,
    "unsupported": Stat.UNSUPPORTED_URL,
    "gave_up": Stat.GAVE_UP,
    "spooled": Stat.SPOOLED,
    "lost": Stat.LOST,
}
SUMMARY_ORDER = (
    *list(COUNTERS)[:-1],
    "fetched",
    "parsed",
    "archived",
    "new_versions",
    "unchanged",
    "not_articles",
    "blocked",
    "rendered",
    "parse_errors",
    "layout_changed",
    "layout_unknown",
    "fetch_failed",
    "filtered",
    "unsupported",
    "gave_up",
    "spooled",
    "lost",
)
# Pages that did not become what they should have: weighed against crawl.max_failure_ratio.
FAILURES = ("parse_errors", "layout_changed", "layout_unknown", "blocked", "fetch_failed")
ARTICLES = ("archived", "new_versions", "unchanged")
MAX_LISTED_FAILURES = 500
# What the revisits of a run found ([revisit]), one line per site in the summary.
REVISIT_COUNTERS: dict[str, Stat] = {
    "revisited": Stat.REVISITED,
    "unchanged": Stat.REVISIT_UNCHANGED,
    "changed": Stat.REVISIT_CHANGED,
    "removed": Stat.REVISIT_REMOVED,
    "returned": Stat.REVISIT_RETURNED,
}

COVERAGE_FIELDS: dict[str, Stat] = {
    "author": Stat.FIELD_AUTHOR,
    "outlet": Stat.FIELD_OUTLET,
    "source": Stat.FIELD_SOURCE,
    "tickers": Stat.FIELD_TICKERS,
}


def counted(count: int, noun: str) -> str:
    """`1 article`, `2 articles`: a count as people write it (nouns with a plain -s plural)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
