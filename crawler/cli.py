"""`newsarchive`: parse a page, crawl articles into the archive, read them back, schedule.

Data goes to stdout (JSON where a program reads it), logs and progress to stderr.
Exit status: 0 ok, 1 the run finished with problems, 2 configuration or usage error.

This module only assembles the sub-commands (crawler/commands/, one module per group),
dispatches, and maps errors to exit statuses. It imports them inside `main`, after the stop
signals are held (crawler/runs/interrupts.py), so a signal during those imports is not lost.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from types import ModuleType

from crawler.runs.interrupts import INTERRUPTIONS  # light: the signal module and logging

if __name__ == "__main__" or Path(sys.argv[0]).name == "newsarchive":
    # Run as the program: stop signals are held from here, before any heavy import (a module
    # imported by tests, say, changes nothing). main() holds them in any case.
    INTERRUPTIONS.hold()

# The commands that run crawls through crawler/runs/session.py, which records a stop signal
# as an interrupted run; the others stop on SIGTERM at once (exit 1).
RUN_COMMANDS = frozenset({"crawl", "demo", "worker"})


def groups() -> tuple[ModuleType, ...]:
    """The command groups, one module each."""
    from crawler.commands import (
        archival,
        backfill,
        catalog,
        crawl,
        demo,
        export,
        parse,
        read,
        schedule,
        search,
        serve,
        show_config,
    )

    return (
        parse,
        crawl,
        backfill,
        demo,
        read,
        export,
        catalog,
        search,
        serve,
        archival,
        schedule,
        show_config,
    )


def build_parser() -> argparse.ArgumentParser:
    from crawler import software_version
    from crawler.logs import FORMATS

    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: config/newsarchive.toml)"
    )
    parser.add_argument(
        "--log-format",
        choices=FORMATS,
        help="the crawl log: Scrapy's text lines, or one JSON object per line ([logging] format)",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"newsarchive {software_version()}",
        help="the version WARC files and run reports name",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for group in groups():
        group.add_arguments(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    # From here a stop signal is noted, not raised: a run ends as interrupted, on record;
    # other commands get the plain behaviour back below.
    INTERRUPTIONS.hold()
    from crawler.commands.common import UsageError
    from crawler.config import ConfigError, load_config
    from crawler.logs import LoggingOptions
    from crawler.stats import Exit
    from pipelines.read.reader import UnreadableObject
    from pipelines.store import StoreError

    args = build_parser().parse_args(argv)
    if args.command not in RUN_COMMANDS:
        if INTERRUPTIONS.received:
            print("PROBLEM: interrupted: stopped by a signal", flush=True)
            return Exit.PROBLEMS
        INTERRUPTIONS.release()
    handlers = {name: run for group in groups() for name, run in group.COMMANDS.items()}
    try:
        config = load_config(args.config)
        if args.log_format:
            config = dataclasses.replace(config, logging=LoggingOptions(args.log_format))
        return int(handlers[args.command](args, config))
    except (ConfigError, UsageError, StoreError) as error:
        print(f"newsarchive: {error}", file=sys.stderr)
        return Exit.USAGE
    except UnreadableObject as error:  # a damaged object the command was asked to read
        print(f"newsarchive: {error}", file=sys.stderr)
        return Exit.PROBLEMS
    except BrokenPipeError:
        # `newsarchive ls | head`: the reader has seen enough; not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.OK


if __name__ == "__main__":
    sys.exit(main())
