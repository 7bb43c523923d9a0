"""`newsarchive`: parse a page, crawl articles into the archive, read them back, schedule.

Data goes to stdout (JSON where a program reads it), logs and progress to stderr.
Exit status: 0 ok, 1 the run finished with problems, 2 configuration or usage error.

This module only assembles the sub-commands (crawler/commands/, one module per group),
dispatches, and maps errors to exit statuses.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crawler.commands import crawl, demo, parse, read, schedule
from crawler.commands.common import UsageError
from crawler.config import ConfigError, load_config
from crawler.stats import Exit
from pipelines.store import StoreError

GROUPS = (parse, crawl, demo, read, schedule)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: config/newsarchive.toml)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_arguments(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {name: run for group in GROUPS for name, run in group.COMMANDS.items()}
    try:
        config = load_config(args.config)
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
