"""`newsarchive catalog rebuild|compact`: the archive's catalog table made again or merged.

`rebuild [--site --since --until]` reads the records of the range (the source of truth) and
replaces the catalog's rows of it, month by month; an archive made before the catalog gets
one. `compact` merges the small files every run adds into large ones, writes a checkpoint
and deletes files no table version of the last week names; readers see the table whole
throughout, and runs may go on committing meanwhile.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from crawler.commands.common import day_range, reader_for
from crawler.config import Config
from crawler.sites import SITE_NAMES
from crawler.stats import Exit, counted
from pipelines.store import check_store


def add_arguments(commands: Any) -> None:
    catalog = commands.add_parser(
        "catalog", help="the archive's catalog (a Delta Lake table): rebuild it, compact it"
    )
    actions = catalog.add_subparsers(dest="catalog_command", required=True)
    rebuild = actions.add_parser("rebuild", help="make the catalog's rows of a range again")
    rebuild.add_argument("--site", choices=SITE_NAMES)
    rebuild.add_argument("--since", help="published on or after YYYY-MM-DD (Beijing date)")
    rebuild.add_argument("--until", help="published on or before YYYY-MM-DD (Beijing date)")
    actions.add_parser("compact", help="merge the catalog's small files")


def cmd_catalog(args: argparse.Namespace, config: Config) -> int:
    from pipelines.catalog.table import Catalog

    reader = reader_for(config)
    check_store(reader.store)
    if args.catalog_command == "compact":
        done = Catalog.of(reader.store).compact()
        print(
            f"compacted the catalog: {done['files_removed']} files merged into "
            f"{done['files_added']}, {done['files_deleted']} unreferenced files deleted"
        )
        return Exit.OK
    return rebuild(args, reader)


def rebuild(args: argparse.Namespace, reader: Any) -> int:
    from tqdm import tqdm

    from pipelines.read.rebuild import rebuild_catalog

    since, until = day_range(args)
    with tqdm(desc="catalog rebuild", unit="record", file=sys.stderr, disable=None) as bar:
        summary = rebuild_catalog(reader, args.site, since, until, bar.update)
    for key in summary.unreadable:
        print(f"PROBLEM: not in the catalog: {key} cannot be read (run `newsarchive verify`)")
    print(
        f"rebuilt the catalog: {counted(summary.rows, 'record')} in "
        f"{counted(summary.months, 'month')}"
    )
    return Exit.PROBLEMS if summary.unreadable else Exit.OK


COMMANDS = {"catalog": cmd_catalog}
