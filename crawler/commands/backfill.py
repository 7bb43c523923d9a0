"""`newsarchive backfill` and `newsarchive worker`: a large crawl spread over machines.

`backfill` seeds the shared Redis frontier (crawler/frontier/queue.py; the seeding run is
crawler/runs/seeding.py) from a URL file (streamed,
memory bounded by one batch), from a site's discovery sources over a date range (they own
how far back they reach) or from a web archive's captures in the range (`--from`: each entry
carries its capture), and shows its progress. `worker` runs the site spiders on the
frontier (crawler/frontier/workers.py) and archives into the configured archive, which workers on
several machines share when it is S3-compatible storage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from crawler.commands.common import (
    UsageError,
    check_range,
)
from crawler.config import Config
from crawler.frontier.queue import (
    Frontier,
    FrontierError,
    RedisError,
    SiteProgress,
    connect,
    new_worker_id,
    redact,
)
from crawler.runs.seeding import SeedRange, seed
from crawler.runs.session import RunRequest, prepare, run_and_finish
from crawler.sites import SITE_NAMES
from crawler.stats import Exit, counted
from crawler.webarchive.options import SOURCES
from pipelines.store import is_local

REDIS_ENV = "NEWSARCHIVE_REDIS"  # the Redis URL, kept off command lines (its password)
WATCH_SECONDS = 2.0
# `--watch` gives up when work is left but no worker has been alive for this long.
WATCH_NO_WORKER_SECONDS = 60.0


def add_arguments(commands: Any) -> None:
    redis_help = f"redis://[:PASSWORD@]HOST:PORT/DB (rediss:// for TLS); default ${REDIS_ENV}"
    b = commands.add_parser(
        "backfill",
        help="queue a URL list or a past range on the shared Redis frontier; show its progress",
    )
    b.add_argument("--redis", help=redis_help)
    b.add_argument("--urls-file", type=Path, help="article URLs, one per line (any size)")
    b.add_argument("--site", choices=SITE_NAMES, action="append", help="site(s) to discover")
    b.add_argument("--since", help="discover articles published since YYYY-MM-DD")
    b.add_argument("--until", help="... up to YYYY-MM-DD")
    b.add_argument(
        "--from",
        dest="source",
        choices=SOURCES,
        help="queue the captures a public web archive holds of the sites' articles in the "
        "range (workers fetch them from the archive, never from the site)",
    )
    b.add_argument("--status", action="store_true", help="queued / in flight / archived / failed")
    b.add_argument("--watch", action="store_true", help="--status as a live progress bar")
    w = commands.add_parser(
        "worker", help="fetch and archive the articles queued on the shared Redis frontier"
    )
    w.add_argument("--redis", help=redis_help)
    w.add_argument("--site", choices=SITE_NAMES, action="append", help="only these sites")
    w.add_argument(
        "--idle-exit",
        type=float,
        default=0,
        metavar="SECONDS",
        help="stop after the frontier gave nothing this long (default: never)",
    )
    w.add_argument("--log-file", type=Path, help="write the crawl log here instead of stderr")


def redis_url(args: argparse.Namespace) -> str:
    url = args.redis or os.environ.get(REDIS_ENV)
    if not url:
        raise UsageError(f"--redis URL (or ${REDIS_ENV}) is required")
    return str(url)


def open_frontier(url: str) -> Frontier:
    """The frontier, or one line and exit 2 before anything else happens."""
    try:
        return Frontier(connect(url))
    except FrontierError as error:
        raise UsageError(str(error)) from None


# --- backfill ------------------------------------------------------------------------------


def cmd_backfill(args: argparse.Namespace, config: Config) -> int:
    sites = args.site or list(SITE_NAMES)
    if args.status or args.watch:
        if args.urls_file or args.since or args.until:
            raise UsageError("--status and --watch take --site only")
        frontier = open_frontier(redis_url(args))
        return watch(frontier, sites) if args.watch else print_status(frontier, sites)
    if args.source and args.urls_file:
        raise UsageError("--from takes --site, --since and --until (no --urls-file)")
    if bool(args.urls_file) == bool(args.since or args.source):
        raise UsageError("give either --urls-file FILE or --since YYYY-MM-DD (with --site)")
    if args.urls_file and (args.until or args.site):
        raise UsageError("--urls-file takes no --site or --until: its URLs say their site")
    if args.until and not args.since:
        raise UsageError("--until needs --since")
    check_range(args.since, args.until)
    if args.urls_file and not args.urls_file.is_file():
        raise UsageError(f"no such file: {args.urls_file}")
    frontier = open_frontier(redis_url(args))
    asked = None if args.urls_file else SeedRange(sites, args.since, args.until, args.source)
    try:
        seeded = seed(frontier, config, args.urls_file, asked)
    except RedisError as error:
        print(f"newsarchive: frontier Redis failed: {error}", file=sys.stderr)
        return Exit.PROBLEMS
    counts = seeded.counts
    if counts.requeued or counts.settled_archived:
        print(
            f"{counts.requeued} in flight on stopped workers put back on the queue"
            + (f", {counts.settled_archived} found archived" if counts.settled_archived else "")
        )
    if seeded.unsupported:
        print(
            f"{seeded.unsupported} lines are no article URL of any site: skipped", file=sys.stderr
        )
    for site, errors in seeded.discovery_errors.items():
        print(f"PROBLEM: {site}: discovery broken ({errors} listing errors)")
    for site in seeded.beyond_reach:
        print(
            f"{site}: the discovery sources do not reach back to {args.since}; "
            "older articles need --urls-file",
            file=sys.stderr,
        )
    print(counts.line())
    return Exit.PROBLEMS if seeded.problems else Exit.OK


# --- progress ------------------------------------------------------------------------------


def status_lines(rows: list[SiteProgress], failures: dict[str, dict[str, int]]) -> list[str]:
    lines = [
        f"{'site':10} {'queued':>9} {'in flight':>9} {'archived':>9} {'failed':>7} "
        f"{'per min':>8} {'workers':>7}"
    ]
    for p in rows:
        lines.append(
            f"{p.site:10} {p.queued:9d} {p.in_flight:9d} {p.archived:9d} {p.failed:7d} "
            f"{p.per_minute:8.1f} {p.workers:7d}"
        )
        if failures.get(p.site):
            why = ", ".join(f"{n} {name}" for name, n in sorted(failures[p.site].items()))
            lines.append(f"{'':10} failed: {why}")
    return lines


def print_status(frontier: Frontier, sites: list[str]) -> int:
    try:
        rows = [frontier.progress(site) for site in sites]
        failures = {site: frontier.failures(site) for site in sites}
    except RedisError as error:
        print(f"newsarchive: frontier Redis failed: {error}", file=sys.stderr)
        return Exit.PROBLEMS
    for line in status_lines(rows, failures):
        print(line)
    return Exit.OK


def watch(frontier: Frontier, sites: list[str]) -> int:
    """A progress bar until nothing is queued or in flight (Ctrl-C stops watching)."""
    from tqdm import tqdm

    bar = tqdm(unit="article", file=sys.stderr, dynamic_ncols=True)
    last_worker = time.monotonic()
    try:
        while True:
            rows = [frontier.progress(site) for site in sites]
            bar.total = sum(p.total for p in rows)
            bar.n = sum(p.archived + p.failed for p in rows)
            left = sum(p.queued + p.in_flight for p in rows)
            workers = sum(p.workers for p in rows)
            bar.set_postfix_str(
                f"queued {sum(p.queued for p in rows)}, in flight "
                f"{sum(p.in_flight for p in rows)}, failed {sum(p.failed for p in rows)}, "
                f"{sum(p.per_minute for p in rows):.0f}/min, workers {workers}"
            )
            bar.refresh()
            if workers:
                last_worker = time.monotonic()
            if not left:
                break
            if time.monotonic() - last_worker > WATCH_NO_WORKER_SECONDS:
                bar.close()
                print(
                    f"newsarchive: {counted(left, 'article')} left and no worker running",
                    file=sys.stderr,
                )
                return Exit.PROBLEMS
            time.sleep(WATCH_SECONDS)
    except KeyboardInterrupt:
        bar.close()
        return Exit.OK
    except RedisError as error:
        bar.close()
        print(f"newsarchive: frontier Redis failed: {error}", file=sys.stderr)
        return Exit.PROBLEMS
    bar.close()
    return print_status(frontier, sites)


# --- worker --------------------------------------------------------------------------------


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    from crawler.frontier.workers import worker_settings, worker_spider

    if args.idle_exit < 0:
        raise UsageError(f"--idle-exit must be 0 or more, got {args.idle_exit:g}")
    url = redis_url(args)
    open_frontier(url)  # unreachable or refused: exit 2 before any fetch
    store = prepare(config, args.log_file)
    if is_local(config.archive.location):
        print(
            "newsarchive: WARNING: the archive is a local folder: workers on other machines "
            "cannot share it (use S3-compatible storage for a worker fleet)",
            file=sys.stderr,
        )
    worker = new_worker_id()
    print(f"worker {worker} on {redact(url)}", file=sys.stderr)
    request = RunRequest(
        {site: None for site in args.site or SITE_NAMES},
        command="worker",
        kind="worker",
        overrides=worker_settings(url, worker, args.idle_exit, config.history),
        log_file=args.log_file,
        lock=False,  # every worker crawls every site: the frontier hands out each id once
        spider_class=worker_spider,
    )
    return run_and_finish(config, request, store)[1]


COMMANDS = {"backfill": cmd_backfill, "worker": cmd_worker}
