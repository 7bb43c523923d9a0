"""`newsarchive mirror` and `newsarchive demo`: the sample pages served offline, and crawled."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.commands.common import UsageError, check_run_places, finish_run, log_file_settings
from crawler.commands.read import ls_line
from crawler.config import Config
from crawler.sites import SITE_NAMES
from crawler.stats import CrawlSummary, Exit
from pipelines.reader import ArchiveReader
from pipelines.store import shared_store

DEMO_LS_LINES = 5


def add_arguments(commands: Any) -> None:
    m = commands.add_parser("mirror", help="serve the local mirror of every site on 127.0.0.1")
    m.add_argument("--port", type=int, default=8080)
    m.add_argument("--articles", type=int, default=0, help="generated articles to add")

    d = commands.add_parser("demo", help="crawl the bundled sample pages from a local mirror")
    d.add_argument("--log-file", type=Path, help="write the crawl log here instead of stderr")


def cmd_mirror(args: argparse.Namespace, config: Config) -> int:
    from crawler.mirror.catalog import Catalog, site_tables
    from crawler.mirror.fixtures import iter_fixtures
    from crawler.mirror.server import MirrorServer

    catalog = Catalog(iter_fixtures(), args.articles)
    try:
        server = MirrorServer(catalog.routes(), port=args.port, handlers=catalog.handlers())
    except OSError as error:
        raise UsageError(
            f"mirror: cannot listen on 127.0.0.1:{args.port}: {error.strerror}"
        ) from None
    print(f"mirror of {len(catalog.items)} articles on {server.url}", file=sys.stderr)
    for site, table in site_tables(server).items():
        for key, url in table.items():
            print(f'  sites.{site}.{key} = "{url}"', file=sys.stderr)
    server.start()
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.stop()
    return Exit.OK


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from crawler.mirror.catalog import Catalog, mirrored
    from crawler.mirror.fixtures import iter_fixtures
    from crawler.mirror.server import MirrorServer
    from crawler.runner import run_crawl

    catalog = Catalog(iter_fixtures())
    store = shared_store(config.archive)
    check_run_places(config, store, args.log_file)
    started = datetime.now(UTC)
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror:
        print(f"mirror of {len(catalog.items)} listed articles on {mirror.url}", file=sys.stderr)
        overrides = {"LOG_LEVEL": "WARNING", "DOWNLOAD_DELAY": 0}
        overrides.update(log_file_settings(args.log_file))
        plan: dict[str, list[str] | None] = {site: None for site in SITE_NAMES}
        runs = run_crawl(plan, mirrored(config, mirror), overrides)
    summary = CrawlSummary(runs)
    finish_run(summary, config, store, started, command="demo")
    archived = sum(run.counts["archived"] + run.counts["new_versions"] for run in runs.values())
    if archived == 0:
        print("nothing new: every listed article is already in the archive")
    newest = sorted(ArchiveReader(store).articles(), key=lambda a: a.published, reverse=True)
    print(f"\n$ newsarchive ls   (newest {min(DEMO_LS_LINES, len(newest))} of {len(newest)})")
    for article in newest[:DEMO_LS_LINES]:
        print(ls_line(article))
    # The mirror lists a challenge page, a deleted page, videos and an off-site link on
    # purpose; they are reported above, and the demo itself succeeded.
    return Exit.OK


COMMANDS = {"mirror": cmd_mirror, "demo": cmd_demo}
