"""`newsarchive export`: the archive for the tools people read it with.

`--format jsonl` (every record field, plus `removed`), `csv` (a flat, documented column set),
`parquet` (typed, partitioned site=/month=; DuckDB, pandas, Spark read it) and `wacz` (the WARC
captures, for ReplayWeb.page and pywb). `-o` names the file (the folder for Parquet); JSON
Lines and CSV go to stdout without it. The rows are pipelines/read/exports.py's.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any

from crawler import software_version
from crawler.commands.common import UsageError, add_filters, day_range, reader_for
from crawler.config import Config
from crawler.stats import Exit, counted
from pipelines.read.exports import ExportSummary, export_rows, write_csv, write_jsonl, write_parquet
from pipelines.read.wacz import write_wacz
from pipelines.store import check_store

FORMATS = ("jsonl", "csv", "parquet", "wacz")


def add_arguments(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="the archive as JSON Lines, CSV, Parquet (a folder) or WACZ (-o FILE)"
    )
    add_filters(export)
    export.add_argument("--format", choices=FORMATS, default="jsonl")
    export.add_argument(
        "-o",
        "--output",
        type=Path,
        help="the file to write (the folder, for parquet; stdout for jsonl and csv without it)",
    )
    export.add_argument(
        "--all-versions", action="store_true", help="every stored version, not only the newest"
    )


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    """Every matching article; a progress bar on stderr when it is a terminal."""
    from tqdm import tqdm

    if args.format == "wacz":
        return export_wacz(args, config)
    if args.format == "parquet" and not args.output:
        raise UsageError("export --format parquet needs -o FOLDER")
    if args.output and not args.output.parent.is_dir():
        raise UsageError(f"no folder {args.output.parent} for {args.output.name}")
    since, until = day_range(args)
    reader = reader_for(config)
    check_store(reader.store)
    if args.all_versions:
        entries = reader.index_entries(args.site, since, until, with_record=True)
        if args.ticker:
            entries = (e for e in entries if args.ticker.upper() in map(str.upper, e.tickers))
    else:
        entries = iter(reader.articles(args.site, since, until, args.ticker, with_record=True))
    summary = ExportSummary()
    with tqdm(desc="export", unit="article", file=sys.stderr, disable=None) as bar:
        rows = export_rows(reader, entries, summary, bar.update)
        if args.format == "parquet":
            write_parquet(rows, args.output)
        else:
            write = write_csv if args.format == "csv" else write_jsonl
            with _opened(args.output) as out:
                write(rows, out)
    for key in summary.unreadable:
        print(
            f"PROBLEM: not exported: {key} cannot be read (run `newsarchive verify`)",
            file=sys.stderr,
        )
    where = f" to {args.output}" if args.output else ""
    print(f"exported {counted(summary.rows, 'article')}{where}", file=sys.stderr)
    return Exit.PROBLEMS if summary.unreadable else Exit.OK


def _opened(path: Path | None) -> Any:
    """The output file (written whole, UTF-8, newline-neutral for CSV), or stdout."""
    if path is None:
        return nullcontext(sys.stdout)
    handle: IO[str] = path.open("w", encoding="utf-8", newline="")
    return handle


def export_wacz(args: argparse.Namespace, config: Config) -> int:
    """`export --format wacz -o FILE.wacz`: the range as a WACZ 1.1.1 package."""
    from tqdm import tqdm

    if not args.output:
        raise UsageError("export --format wacz needs -o FILE.wacz")
    if args.ticker:
        raise UsageError("export --format wacz takes --site, --since and --until, not --ticker")
    output = Path(args.output)
    if not output.parent.is_dir():
        raise UsageError(f"no folder {output.parent} for {output.name}")
    since, until = day_range(args)
    reader = reader_for(config)
    check_store(reader.store)
    with tqdm(desc="export", unit="record", file=sys.stderr, disable=None) as bar:
        summary = write_wacz(
            reader, args.site, since, until, output, f"newsarchive {software_version()}", bar.update
        )
    for problem in summary.missing:
        print(f"PROBLEM: not exported: {problem}", file=sys.stderr)
    print(
        f"exported {counted(summary.pages, 'article')} ({counted(summary.records, 'WARC record')}, "
        f"{summary.reconstructed} rebuilt from pages kept before WARC capture) to {output}",
        file=sys.stderr,
    )
    return Exit.PROBLEMS if summary.missing else Exit.OK


COMMANDS = {"export": cmd_export}
