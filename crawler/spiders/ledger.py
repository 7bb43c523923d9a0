"""What became of each requested URL: every URL a run requests ends in exactly one outcome.

The ledger is the one place that says so: the outcome's counter in the crawl stats, a line
in the archive state's outcome log (with the revisit bookkeeping), and, for a failure, the run
report's list. It also names the outcome of a failed request. A log that cannot be written is
reported, never allowed to lose the page's item. No parsing, no request planning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import scrapy
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import StatsCollector
from twisted.internet.error import TCPTimedOutError
from twisted.internet.error import TimeoutError as ConnectTimeout
from twisted.python.failure import Failure

from crawler.middlewares.offsite import OffsiteRedirect
from crawler.outcomes import GAVE_UP, http_outcome, ignored_outcome, outcome
from crawler.stats import MAX_LISTED_FAILURES, Stat
from pipelines.state import ArchiveState, RetryDue


class OutcomeLedger:
    """The outcomes of one site's requests in one crawl."""

    def __init__(
        self,
        stats: StatsCollector,
        state: ArchiveState,
        site: str,
        logger: logging.Logger | logging.LoggerAdapter[Any],
        listeners: list[Callable[[str, str | None], None]] | None = None,
    ) -> None:
        self.stats = stats
        self.state = state
        self.site = site
        self.logger = logger
        # Told (outcome name, article id) once an outcome is counted: a frontier worker
        # settles the id, a chain of captures asks for the next one.
        self.listeners = listeners if listeners is not None else []

    def account(
        self,
        name: str,
        url: str,
        page_id: str | None,
        detail: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        """What became of one requested URL: its outcome's counter, the archive state's
        outcome log (with `extra`, the revisit bookkeeping), and (for a failure) the run
        report's list."""
        entry = outcome(name)
        self.stats.inc_value(Stat.of_outcome(entry.name))
        try:
            self.state.record_outcome(self.site, url, entry.name, page_id, detail, extra=extra)
        except OSError as error:
            self.logger.error("outcome of %s not recorded: %s", url, error)
        if entry.failure or entry.kind == "filtered":
            self.note_failure(entry.name, url, detail)
        for listener in self.listeners:
            listener(name, page_id)

    def give_up(self, due: RetryDue) -> None:
        """A page earlier runs failed on, out of attempts: recorded as given up."""
        when = f"{due.last_at:%Y-%m-%d %H:%M}Z"
        detail = f"{due.attempts} attempts, the last {due.last_outcome} at {when}"
        self.stats.inc_value(Stat.GAVE_UP)
        self.state.record_outcome(self.site, due.url, GAVE_UP, due.page_id, detail)
        self.note_failure(GAVE_UP, due.url, detail)
        self.logger.warning("gave up on %s: %s", due.url, detail, extra=about(due.url, GAVE_UP))

    def note_failure(self, reason: str, url: str, detail: str) -> None:
        """Remember a failed page's URL for the run report (the first few hundred)."""
        failures = self.stats.get_value(Stat.FAILURE_LIST)
        if failures is None:
            failures = []
            self.stats.set_value(Stat.FAILURE_LIST, failures)
        if len(failures) < MAX_LISTED_FAILURES:
            failures.append({"reason": reason, "url": url, "detail": detail[:300]})


def failure_outcome(failure: Failure) -> tuple[str, Response | None]:
    """The outcome name of a failed request (crawler/outcomes.py), and the response if the
    failure carries one."""
    error = failure.value
    if isinstance(error, HttpError):
        return http_outcome(error.response.status), error.response
    if isinstance(error, OffsiteRedirect):
        return "offsite_redirect", error.response
    if failure.check(IgnoreRequest):
        return ignored_outcome(failure.getErrorMessage()), None
    if failure.check(DownloadTimeoutError, ConnectTimeout, TCPTimedOutError):
        return "timeout", None
    return "connection_error", None


def about(url: str, outcome_name: str) -> dict[str, str]:
    """The `extra` of a log line about one page: its URL and outcome (fields of JSON logs)."""
    return {"url": url, "outcome": outcome_name}


def request_of(failure: Failure) -> scrapy.Request:
    """The request an errback's failure is about (Scrapy sets it; Twisted's type lacks it)."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request
