"""How the crawl log is written: `[logging] format` (`text`, Scrapy's lines, or `json`, one
object per line for journald, Loki or CloudWatch), and what every JSON line carries.

A JSON line has `time`, `level`, `logger` and `message`, and where known `site` (the spider's),
`url` and `outcome` (a page's fate), `run_id` (also in the run report) and `job` (the scheduler
job). PROBLEM lines are logged with `"problem": true`. python-json-logger writes the objects.
Scrapy re-installs its root handler for every crawler it makes; crawler/middlewares/json_logs.py
puts the JSON formatter on it where it stays.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
# This process's run: the id its run report carries too, and the scheduler job, if any.
RUN_CONTEXT: dict[str, Any] = {
    "run_id": f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}",
    "job": None,
}
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
PROBLEMS = logging.getLogger("newsarchive.problems")


@dataclass(frozen=True)
class LoggingOptions:
    """`[logging]`: the crawl log's format (`newsarchive --log-format` overrides it)."""

    format: str = field(default="text", metadata={"choices": FORMATS})


class RunContext(logging.Filter):
    """Adds what a JSON line says about where it comes from: site, run id, job."""

    def filter(self, record: logging.LogRecord) -> bool:
        spider = getattr(record, "spider", None)
        if spider is not None and not hasattr(record, "site"):
            record.site = getattr(spider, "site", None) or getattr(spider, "name", None)
        for key, value in RUN_CONTEXT.items():
            if value is not None and not hasattr(record, key):
                setattr(record, key, value)
        return True


def use_json(handler: logging.Handler | None) -> None:
    """Write this handler's records as JSON objects, one per line."""
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    if handler is None or isinstance(handler.formatter, JsonFormatter):
        return
    handler.setFormatter(
        JsonFormatter(
            JSON_FIELDS,
            rename_fields=RENAMED,
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            json_ensure_ascii=False,
            # Scrapy's own objects in `extra` (the spider, the crawler): not log fields.
            reserved_attrs=[*RESERVED_ATTRS, "taskName", "spider", "crawler"],
        )
    )
    if not any(isinstance(f, RunContext) for f in handler.filters):
        handler.addFilter(RunContext())


def log_problems(problems: list[str]) -> None:
    """The run's PROBLEM lines, as log records a JSON log reader can filter on."""
    for problem in problems:
        PROBLEMS.error("PROBLEM: %s", problem, extra={"problem": True})
