"""`newsarchive`: parse a page, crawl articles into the archive, read them back, schedule.

Data goes to stdout (JSON where a program reads it), logs and progress to stderr.
Exit status: 0 ok, 1 the run finished with problems, 2 configuration or usage error.

This module only assembles the sub-commands (crawler/commands/, one module per group),
dispatches, and maps errors to exit statuses.
"""

from __future__ import annotations

import signal
import sys


def _stopped_early(signum: int, frame: object) -> None:
    """SIGTERM before a crawl has installed Scrapy's own handler (start-up, imports): said
    as an interruption, exit 1, like a crawl stopped later."""
    print("PROBLEM: interrupted: stopped by a signal", flush=True)
    raise SystemExit(1)


signal.signal(signal.SIGTERM, _stopped_early)

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

from crawler import software_version  # noqa: E402
from crawler.commands import (  # noqa: E402
    archival,
    backfill,
    crawl,
    demo,
    parse,
    read,
    schedule,
    search,
    serve,
    show_config,
)
from crawler.commands.common import UsageError  # noqa: E402
from crawler.config import ConfigError, load_config  # noqa: E402
from crawler.logs import FORMATS, LoggingOptions  # noqa: E402
from crawler.stats import Exit  # noqa: E402
from pipelines.store import StoreError  # noqa: E402

GROUPS = (parse, crawl, backfill, demo, read, search, serve, archival, schedule, show_config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: config/newsarchive.toml)"
    )
    parser.add_argument(
        "--log-format", choices=FORMATS,
        help="the crawl log: Scrapy's text lines, or one JSON object per line ([logging] format)",
    )  # fmt: skip
    parser.add_argument(
        "--version", action="version", version=f"newsarchive {software_version()}",
        help="the version WARC files and run reports name",
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_arguments(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {name: run for group in GROUPS for name, run in group.COMMANDS.items()}
    try:
        config = load_config(args.config)
        if args.log_format:
            config = dataclasses.replace(config, logging=LoggingOptions(args.log_format))
        return int(handlers[args.command](args, config))
    except (ConfigError, UsageError, StoreError) as error:
        print(f"newsarchive: {error}", file=sys.stderr)
        return Exit.USAGE
    except BrokenPipeError:
        # `newsarchive ls | head`: the reader has seen enough; not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.OK


if __name__ == "__main__":
    sys.exit(main())
