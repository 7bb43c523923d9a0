"""`newsarchive ls / show / export / runs / reparse`: reading the archive back.

Data to stdout (one JSON document or line per article where a program reads it), progress and
summaries to stderr. All of them go through the store, so they behave the same on the local
folder and on S3.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from crawler.commands.common import (
    UsageError,
    add_filters,
    day_range,
    ls_line,
    positive_int,
    reader_for,
)
from crawler.config import Config
from crawler.health.assess import TREND_RUNS, health_lines, site_health
from crawler.health.reports import recent_reports, report_line
from crawler.sites import SITE_NAMES
from crawler.stats import Exit, counted
from pipelines.read.reader import ArchivedArticle, ArchiveReader, raw_body
from pipelines.records.versions import diff_versions
from pipelines.store import shared_store
from pipelines.warc import CaptureMissing


def add_arguments(commands: Any) -> None:
    ls = commands.add_parser("ls", help="list archived articles (newest version of each)")
    add_filters(ls)
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    which = ls.add_mutually_exclusive_group()
    which.add_argument("--changed", action="store_true", help="only articles edited since archived")
    which.add_argument("--removed", action="store_true", help="only articles the site removed")
    which.add_argument(
        "--generic",
        action="store_true",
        help="only articles whose text the generic extractor gave (no layout read the page)",
    )

    diff = commands.add_parser("diff", help="what changed between two versions of an article")
    diff.add_argument("id", help="article id as `ls` prints it")
    diff.add_argument("--site", choices=SITE_NAMES)
    diff.add_argument(
        "--from", dest="old", type=positive_int, help="older version (default: the one before --to)"
    )
    diff.add_argument(
        "--to", dest="new", type=positive_int, help="newer version (default: the newest)"
    )
    diff.add_argument("--json", action="store_true", help="the diff as one JSON object")

    show = commands.add_parser("show", help="print one archived article")
    show.add_argument("id", help="article id as `ls` prints it, e.g. 41283375-en")
    show.add_argument("--site", choices=SITE_NAMES)
    view = show.add_mutually_exclusive_group()
    view.add_argument("--json", action="store_true", help="the full JSON record")
    view.add_argument("--text", action="store_true", help="the clean text only")
    view.add_argument("--raw", action="store_true", help="the page exactly as served")
    show.add_argument("--version", type=positive_int, help="a given version (default: the newest)")

    reparse = commands.add_parser(
        "reparse", help="re-run today's parsers on archived pages; store what changed"
    )
    add_filters(reparse)
    reparse.add_argument(
        "--rejected",
        action="store_true",
        help="parse the kept raw pages of parse errors and layout changes again (by fetch day)",
    )

    runs = commands.add_parser("runs", help="list recent crawl runs and how they went")
    runs.add_argument("--limit", type=positive_int, default=20, help="how many runs (at least 1)")
    runs.add_argument("--json", action="store_true", help="the full reports, one per line")
    runs.add_argument(
        "--health",
        action="store_true",
        help="each site now: last run, archived per run, open findings",
    )
    runs.add_argument("--site", choices=SITE_NAMES, action="append", help="with --health")


def filtered(reader: ArchiveReader, args: argparse.Namespace) -> Iterator[ArchivedArticle]:
    since, until = day_range(args)
    return reader.articles(site=args.site, since=since, until=until, ticker=args.ticker)


def cmd_ls(args: argparse.Namespace, config: Config) -> int:
    reader = reader_for(config)
    removals = reader.removals(args.site)
    count = 0
    for article in filtered(reader, args):
        marker = removals.get((article.site, article.id))
        removed = marker is not None and marker.get("event") == "removed"
        if (
            (args.changed and article.version < 2)
            or (args.removed and not removed)
            or (args.generic and not article.extraction)
        ):
            continue
        count += 1
        if args.json:
            print(json.dumps({**article.to_dict(), "removed": removed}, ensure_ascii=False))
        else:
            print(ls_line(article) + ("  [removed]" if removed else ""))
    print(counted(count, "article"), file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace, config: Config) -> int:
    records = reader_for(config).find(args.id, args.site)
    if not records:
        print(f"newsarchive: no article {args.id} in the archive", file=sys.stderr)
        return 1
    newest = len(records)
    new = args.new or newest
    old = args.old or new - 1
    if newest < 2 and not (args.old or args.new):
        print(f"newsarchive: {args.id} has one version only: nothing to compare", file=sys.stderr)
        return 1
    if not (1 <= old < new <= newest):
        raise UsageError(f"{args.id} has versions 1 to {newest}; --from must be before --to")
    diff = diff_versions(records[old - 1], records[new - 1])
    if args.json:
        print(json.dumps(diff.to_dict(), ensure_ascii=False))
    else:
        print("\n".join(diff.lines()))
    return 0


def cmd_show(args: argparse.Namespace, config: Config) -> int:
    reader = reader_for(config)
    records = reader.find(args.id, args.site)
    if not records:
        print(f"newsarchive: no article {args.id} in the archive", file=sys.stderr)
        return 1
    if args.version is not None:
        chosen = [r for r in records if r.get("version") == args.version]
        if not chosen:
            print(f"newsarchive: {args.id} has no version {args.version}", file=sys.stderr)
            return 1
        record = chosen[0]
    else:
        record = records[-1]
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
    elif args.raw:
        try:
            body = raw_body(reader.store, record)
        except CaptureMissing as error:
            print(f"newsarchive: the page as served cannot be read: {error}", file=sys.stderr)
            return 1
        sys.stdout.buffer.write(body)
    elif args.text:
        print(record["text"])
    else:
        print(_readable(record, len(records)))
        marker = reader.removals(record["site"]).get((record["site"], record["id"]))
        if marker is not None:
            print("\n" + _removal_line(marker))
    return 0


def _removal_line(marker: dict[str, Any]) -> str:
    if marker.get("event") == "returned":
        return (
            f"returned {marker['returned_at']} after the site had removed it (v{marker['version']})"
        )
    return f"REMOVED by the site: first seen gone {marker['first_seen_gone']} ({marker['detail']})"


def _readable(record: dict[str, Any], versions: int) -> str:
    lines = [
        record["title"],
        f"{record['published']}  {record.get('outlet') or ''}  {record['url']}",
        f"id {record['id']}  version {record['version']} of {versions}  "
        f"parser {record['parser']} {record['parser_version']}",
    ]
    if record.get("tickers"):
        lines.append("tickers " + " ".join(record["tickers"]))
    if record.get("extraction"):
        lines.append(
            f"{record['extraction']} text (no known layout: tried {record.get('layout_tried')}); "
            "`newsarchive reparse` replaces it once a layout reads the page"
        )
    return "\n".join(lines) + "\n\n" + record["text"]


def cmd_reparse(args: argparse.Namespace, config: Config) -> int:
    """A new version only where today's parser gives a different article; 1 if any failed."""
    from tqdm import tqdm

    from crawler.runs.reparse import reparse, summary_lines
    from pipelines.catalog.indexes import ArchiveIndexes

    reader = reader_for(config)
    if args.rejected:
        return _reparse_rejected(args, config, reader)
    articles = list(filtered(reader, args))
    bar = tqdm(total=len(articles), desc="reparse", unit="article", file=sys.stderr, disable=None)
    summary = reparse(
        reader.store,
        articles,
        ArchiveIndexes(config.archive.spool_dir),
        progress=lambda _: bar.update(),
    )
    bar.close()
    for line in summary_lines(summary):
        print(line)
    return 1 if summary.counts["failed"] else 0


def _reparse_rejected(args: argparse.Namespace, config: Config, reader: ArchiveReader) -> int:
    """`reparse --rejected`: recover a night's pages after a parser fix, without fetching."""
    from crawler.runs.reparse import reparse_rejected, summary_lines
    from pipelines.catalog.indexes import ArchiveIndexes

    if args.ticker:
        raise UsageError("--ticker does not apply to rejected pages (they have no article)")
    since, until = day_range(args)
    summary = reparse_rejected(
        reader.store,
        reader.rejected(args.site, since, until),
        ArchiveIndexes(config.archive.spool_dir),
    )
    for line in summary_lines(summary):
        print(line)
    return 1 if summary.counts["failed"] else 0


def cmd_runs(args: argparse.Namespace, config: Config) -> int:
    store = shared_store(config.archive)
    if args.health:
        reports = list(recent_reports(store, max(args.limit, TREND_RUNS * 4)))
        health = site_health(reports, args.site or list(SITE_NAMES))
        for line in health_lines(health):
            print(line)
        return Exit.OK if all(h.healthy for h in health if h.last) else Exit.PROBLEMS
    if args.site:
        raise UsageError("--site goes with --health")
    shown = 0
    for report in recent_reports(store, args.limit):
        shown += 1
        print(json.dumps(report, ensure_ascii=False) if args.json else report_line(report))
    if not shown:
        print("no runs recorded yet", file=sys.stderr)
    return 0


COMMANDS = {
    "diff": cmd_diff,
    "ls": cmd_ls,
    "show": cmd_show,
    "runs": cmd_runs,
    "reparse": cmd_reparse,
}
