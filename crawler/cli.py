"""`newsarchive`: parse a page, crawl articles into the archive, run the offline demo.

Data goes to stdout (JSON where a program reads it), logs and progress to stderr.
Exit status: 0 ok, 1 the run finished with problems, 2 configuration or usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial
from pathlib import Path

from crawler.config import Config, ConfigError, load_config
from crawler.locks import SiteLock
from crawler.parsers import PageRejected, UnsupportedURL, identify, parse
from crawler.read_commands import (
    ReadUsageError,
    add_read_commands,
    cmd_export,
    cmd_ls,
    cmd_reparse,
    cmd_runs,
    cmd_show,
    ls_line,
)
from crawler.runner import CrawlSummary, group_by_site, run_crawl
from crawler.runs import write_report
from crawler.schedule import add_schedule_command, cmd_schedule
from crawler.urls import fetch_url
from pipelines.daily import DailyIndex
from pipelines.reader import ArchiveReader
from pipelines.spool import Spool
from pipelines.store import ArchiveStore, StoreError, check_store, open_store

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
DEMO_LS_LINES = 5


class UsageError(Exception):
    """Bad command-line use; reported in one line with exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: config/newsarchive.toml)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("parse", help="parse one page and print the article as JSON")
    p.add_argument("file", nargs="?", type=Path, help="saved page (raw bytes as served)")
    p.add_argument("--url", help="the page's URL (fetched when no FILE is given)")
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="saved page's response header, repeatable ('Content-Type: text/html; charset=gbk')",
    )

    c = commands.add_parser(
        "crawl", help="discover new articles (or fetch given URLs), parse and archive them"
    )
    c.add_argument("--url", action="append", default=[], help="article URL (repeatable)")
    c.add_argument("--urls-file", type=Path, help="file with one article URL per line")
    c.add_argument("--site", choices=["futu", "tencent"], action="append", help="limit discovery")
    c.add_argument("--since", help="discover articles published since YYYY-MM-DD")
    c.add_argument("--full", action="store_true", help="re-fetch articles already archived")
    c.add_argument("--log-file", type=Path, help="write the crawl log here instead of stderr")
    c.add_argument(
        "--render",
        action="store_true",
        help="fetch challenge pages again in headless Chromium (crawl.render_challenges)",
    )

    commands.add_parser("flush", help="upload the articles spooled while the archive was down")

    m = commands.add_parser("mirror", help="serve the local mirror of both sites on 127.0.0.1")
    m.add_argument("--port", type=int, default=8080)
    m.add_argument("--articles", type=int, default=0, help="generated articles to add")

    d = commands.add_parser("demo", help="crawl the bundled fixture pages from a local mirror")
    d.add_argument("--log-file", type=Path, help="write the crawl log here instead of stderr")
    add_read_commands(commands)
    add_schedule_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
        handler = {
            "parse": cmd_parse,
            "crawl": cmd_crawl,
            "demo": cmd_demo,
            "flush": cmd_flush,
            "mirror": cmd_mirror,
            "ls": cmd_ls,
            "show": cmd_show,
            "export": cmd_export,
            "runs": cmd_runs,
            "reparse": cmd_reparse,
            "schedule": cmd_schedule,
        }[args.command]
        return handler(args, config)
    except (ConfigError, UsageError, ReadUsageError, StoreError) as error:
        print(f"newsarchive: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `newsarchive ls | head`: the reader has seen enough; not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def cmd_parse(args: argparse.Namespace, config: Config) -> int:
    url, body, headers = _page_to_parse(args, config)
    try:
        article = parse(url, body, headers)
    except PageRejected as rejected:
        print(f"newsarchive: {rejected.reason}: {rejected}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _page_to_parse(args: argparse.Namespace, config: Config) -> tuple[str, bytes, dict[str, str]]:
    """URL, bytes and headers from a saved file (with its meta.json if any) or a live fetch."""
    if args.file is None:
        if not args.url:
            raise UsageError("parse needs a FILE, a --url, or both")
        return (args.url, *_fetch(args.url, config))
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    meta_path = args.file.parent / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    url = args.url or meta.get("url")
    if not url:
        raise UsageError("parse FILE needs --url URL (the page's address decides the site)")
    headers = dict(meta.get("headers", {}))
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep:
            raise UsageError(f"--header must look like 'Name: value', got {header!r}")
        headers[name.strip()] = value.strip()
    if not any(name.lower() == "date" for name in headers):
        # A saved page's time of saving stands in for the server's Date header, which
        # year-less Futu dates are resolved against.
        saved = datetime.fromtimestamp(args.file.stat().st_mtime, UTC)
        headers["Date"] = format_datetime(saved, usegmt=True)
    return url, args.file.read_bytes(), headers


def _fetch(url: str, config: Config) -> tuple[bytes, dict[str, str]]:
    try:
        ref = identify(url)
    except UnsupportedURL as error:
        raise UsageError(str(error)) from None
    target = fetch_url(config.site(ref.site)["base_url"], ref.url)
    request = urllib.request.Request(target, headers={"User-Agent": config.crawl["user_agent"]})
    try:
        with urllib.request.urlopen(request, timeout=config.crawl["download_timeout"]) as response:
            return response.read(), dict(response.headers.items())
    except OSError as error:
        raise UsageError(f"cannot fetch {target}: {error}") from None


def cmd_crawl(args: argparse.Namespace, config: Config) -> int:
    urls = list(args.url)
    if args.urls_file:
        if not args.urls_file.is_file():
            raise UsageError(f"no such file: {args.urls_file}")
        lines = args.urls_file.read_text(encoding="utf-8").splitlines()
        urls += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    spider_args = {"since": args.since, "full": args.full}
    if args.since:
        try:
            datetime.strptime(args.since, "%Y-%m-%d")
        except ValueError:
            raise UsageError(f"--since must be YYYY-MM-DD, got {args.since!r}") from None
    unsupported: list[str] = []
    if urls:
        plan: dict[str, list[str] | None] = dict(group_by_site(urls)[0])
        unsupported = group_by_site(urls)[1]
    else:
        plan = {site: None for site in (args.site or ["futu", "tencent"])}
    started = datetime.now(UTC)
    store = open_store(config.archive)
    check_store(store)  # before any page is fetched
    overrides: dict[str, object] = {"LOG_FILE": str(args.log_file)} if args.log_file else {}
    if args.render:
        overrides["NEWSARCHIVE_RENDER_CHALLENGES"] = True
    locks = {site: SiteLock(config.crawl["lock_dir"], site) for site in plan}
    skipped = {site: lock.holder() for site, lock in locks.items() if not lock.acquire()}
    try:
        runnable = {site: urls for site, urls in plan.items() if site not in skipped}
        counts, failures = run_crawl(runnable, args.config, overrides, spider_args)
    finally:
        for lock in locks.values():
            lock.release()
    summary = CrawlSummary(
        counts,
        unsupported,
        pending_uploads=len(Spool(config.archive["spool_dir"]).pending()),
        failures=failures,
        skipped_locked=skipped,
        discovery=not urls,
        max_failure_ratio=config.crawl["max_failure_ratio"],
    )
    return _finish(summary, config, store, started, command="crawl")


def cmd_mirror(args: argparse.Namespace, config: Config) -> int:
    from crawler.fixtures import iter_fixtures
    from crawler.mirror import MirrorServer
    from crawler.mirror_catalog import Catalog

    catalog = Catalog(iter_fixtures(), args.articles)
    server = MirrorServer(catalog.routes(), port=args.port, handlers=catalog.handlers())
    print(f"mirror of {len(catalog.items)} articles on {server.url}", file=sys.stderr)
    for site, origin in MIRRORED_ORIGINS.items():
        for key, real in origin.items():
            print(f'  sites.{site}.{key} = "{server.base_url(real)}"', file=sys.stderr)
    server.start()
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.stop()
    return EXIT_OK


def cmd_flush(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config.archive)
    check_store(store)
    daily = DailyIndex(config.archive["spool_dir"])
    result = Spool(config.archive["spool_dir"]).flush(store, partial(daily.add_article, store))
    daily.flush(store)
    print(f"uploaded {result.uploaded}, still pending {result.pending}")
    print(f"archive: {redact_location(config.archive['location'])}")
    return EXIT_PROBLEMS if result.pending else EXIT_OK


MIRRORED_ORIGINS = {
    "futu": {"base_url": "https://news.futunn.com"},
    "tencent": {
        "base_url": "https://news.qq.com",
        "api_base_url": "https://i.news.qq.com",
        "hot_base_url": "https://r.inews.qq.com",
    },
}


def mirror_sites(config: Config, mirror: object) -> dict[str, dict[str, object]]:
    """The configured sites with every base URL pointing at the mirror."""
    sites: dict[str, dict[str, object]] = {}
    for name, values in config.sites.items():
        bases = {k: mirror.base_url(v) for k, v in MIRRORED_ORIGINS[name].items()}  # type: ignore[attr-defined]
        sites[name] = {**values, **bases}
    return sites


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from crawler.fixtures import iter_fixtures
    from crawler.mirror import MirrorServer
    from crawler.mirror_catalog import Catalog

    catalog = Catalog(iter_fixtures())
    store = open_store(config.archive)
    check_store(store)
    started = datetime.now(UTC)
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror:
        print(f"mirror of {len(catalog.items)} listed articles on {mirror.url}", file=sys.stderr)
        overrides = {
            "NEWSARCHIVE_SITES": mirror_sites(config, mirror),
            "LOG_LEVEL": "WARNING",
            "DOWNLOAD_DELAY": 0,
        }
        if args.log_file:
            overrides["LOG_FILE"] = str(args.log_file)
        counts, failures = run_crawl({"futu": None, "tencent": None}, args.config, overrides)
    summary = CrawlSummary(counts, failures=failures)
    _finish(summary, config, store, started, command="demo")
    archived = sum(counts["archived"] + counts["new_versions"] for counts in summary.sites.values())
    if archived == 0:
        print("nothing new: every listed article is already in the archive")
    newest = sorted(ArchiveReader(store).articles(), key=lambda a: a.published, reverse=True)
    print(f"\n$ newsarchive ls   (newest {min(DEMO_LS_LINES, len(newest))} of {len(newest)})")
    for article in newest[:DEMO_LS_LINES]:
        print(ls_line(article))
    # The mirror lists a challenge page, a deleted page, videos and an off-site link on
    # purpose; they are reported above, and the demo itself succeeded.
    return EXIT_OK


def redact_location(location: str) -> str:
    """The archive location without any user:password part a URL might carry."""
    scheme, sep, rest = location.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else location


def _report(summary: CrawlSummary, config: Config) -> int:
    for line in summary.lines():
        print(line)
    for problem in summary.problems:
        print(f"PROBLEM: {problem}")
    print(f"archive: {redact_location(config.archive['location'])}")
    return EXIT_PROBLEMS if summary.problems else EXIT_OK


def _finish(
    summary: CrawlSummary, config: Config, store: ArchiveStore, started: datetime, command: str
) -> int:
    """Print the summary and store the run report; the exit status for cron."""
    status = _report(summary, config)
    report = {"command": command, **summary.report(started, datetime.now(UTC), status)}
    try:
        key = write_report(store, report)
    except StoreError as error:
        print(f"newsarchive: run report not stored: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"run report: {key}")
    return status


if __name__ == "__main__":
    sys.exit(main())
