"""`newsarchive crawl` and `newsarchive flush`: archive articles, upload what was spooled."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import Any

from crawler.commands.common import UsageError, check_range
from crawler.config import Config
from crawler.runs.ending import run_kind
from crawler.runs.runner import group_by_site
from crawler.runs.session import RunRequest, redact_location, run_and_finish
from crawler.sites import SITE_NAMES
from crawler.stats import Exit
from crawler.urls import read_urls_file
from crawler.webarchive.options import SOURCES
from pipelines import warc
from pipelines.catalog.indexes import ArchiveIndexes
from pipelines.spool import Spool
from pipelines.store import check_store, shared_store


def add_arguments(commands: Any) -> None:
    c = commands.add_parser(
        "crawl", help="discover new articles (or fetch given URLs), parse and archive them"
    )
    c.add_argument("--url", action="append", default=[], help="article URL (repeatable)")
    c.add_argument("--urls-file", type=Path, help="file with one article URL per line")
    c.add_argument("--site", choices=SITE_NAMES, action="append", help="limit discovery")
    c.add_argument("--since", help="discover articles published since YYYY-MM-DD")
    c.add_argument("--until", help="discover articles published up to YYYY-MM-DD (a past range)")
    c.add_argument("--full", action="store_true", help="re-fetch articles already archived")
    c.add_argument(
        "--from",
        dest="source",
        choices=SOURCES,
        help="discover from a public web archive's captures (--site, --since, --until), "
        "fetching each from the archive, never from the site",
    )
    c.add_argument(
        "--all-captures",
        action="store_true",
        help="with --from: every change of an article's content among its captures, each "
        "archived as a version (oldest first), instead of its newest capture only",
    )
    c.add_argument(
        "--revisit-only",
        action="store_true",
        help="only revisit archived articles that are due ([revisit]); no discovery",
    )
    c.add_argument("--log-file", type=Path, help="write the crawl log here instead of stderr")
    c.add_argument(
        "--job", help="the scheduler job this run is for (`newsarchive schedule` sets it)"
    )
    c.add_argument(
        "--render",
        action="store_true",
        help="fetch challenge pages again in headless Chromium (crawl.render_challenges)",
    )
    commands.add_parser("flush", help="upload the articles spooled while the archive was down")


def cmd_crawl(args: argparse.Namespace, config: Config) -> int:
    urls = list(args.url)
    if args.urls_file:
        if not args.urls_file.is_file():
            raise UsageError(f"no such file: {args.urls_file}")
        try:
            urls += read_urls_file(args.urls_file)
        except ValueError as error:
            raise UsageError(f"--urls-file: {error}") from None
    spider_args = {
        "since": args.since,
        "until": args.until,
        "full": args.full,
        "revisit_only": args.revisit_only,
    }
    if args.revisit_only and (urls or args.since or args.until or args.full):
        raise UsageError("--revisit-only takes --site only (no URLs, --since, --until, --full)")
    check_range(args.since, args.until)
    kind = run_kind(
        urls=bool(urls),
        revisit_only=args.revisit_only,
        since=bool(args.since),
        until=bool(args.until),
        full=args.full,
        source=bool(args.source),
    )
    if args.source:
        return crawl_history(args, config, spider_args, kind)
    if args.all_captures:
        raise UsageError("--all-captures goes with --from wayback|commoncrawl")
    unsupported: list[str] = []
    if urls:
        grouped, unsupported = group_by_site(urls)
        plan: dict[str, list[str] | None] = dict(grouped)
    else:
        plan = {site: None for site in (args.site or SITE_NAMES)}
    request = RunRequest(
        plan,
        kind=kind,
        job=args.job,
        spider_args=spider_args,
        log_file=args.log_file,
        render=args.render,
        unsupported=tuple(unsupported),
    )
    return run_and_finish(config, request)[1]


def crawl_history(
    args: argparse.Namespace, config: Config, spider_args: dict[str, Any], kind: str
) -> int:
    """`crawl --from wayback|commoncrawl`: the sites' articles captured in the range, one
    capture each, fetched from the web archive and archived like crawled pages."""
    if args.url or args.urls_file or args.revisit_only or args.full:
        raise UsageError("--from takes --site, --since and --until only (no URLs, --full)")
    spider_args = {**spider_args, "from_archive": args.source}
    if args.all_captures:  # archived articles too: their other captures may be new versions
        spider_args = {**spider_args, "all_captures": True, "full": True}
    request = RunRequest(
        {site: None for site in (args.site or SITE_NAMES)},
        kind=kind,
        job=args.job,
        spider_args=spider_args,
        log_file=args.log_file,
    )
    return run_and_finish(config, request)[1]


def cmd_flush(args: argparse.Namespace, config: Config) -> int:
    store = shared_store(config.archive)
    check_store(store)
    daily = ArchiveIndexes(config.archive.spool_dir)
    result = Spool(config.archive.spool_dir).flush(store, partial(daily.add_article, store))
    daily.flush(store)
    print(f"uploaded {result.uploaded}, still pending {result.pending}")
    recovered = warc.recover(config.archive.spool_dir)
    if recovered.closed:
        print(f"closed {recovered.closed} WARC file(s) a killed run left open")
    files = warc.store_ready(store, config.archive.spool_dir)
    if files.stored or files.pending:
        print(f"WARC files stored {files.stored}, still pending {files.pending}")
    print(f"archive: {redact_location(config.archive.location)}")
    return Exit.PROBLEMS if result.pending or files.pending else Exit.OK


COMMANDS = {"crawl": cmd_crawl, "flush": cmd_flush}
