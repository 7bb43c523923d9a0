"""What several commands share: the usage error, argument checks, the archive's reader.

A command module imports no other command module but this one; the run sequence itself is
crawler/runs/session.py.
"""

from __future__ import annotations

import argparse
from datetime import date

from crawler.config import Config
from crawler.items import parse_day
from crawler.sites import SITE_NAMES
from pipelines.read.reader import ArchivedArticle, ArchiveReader
from pipelines.store import shared_store


class UsageError(Exception):
    """Bad command-line use; reported in one line with exit status 2."""


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (argparse turns the error into exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def check_range(since: str | None, until: str | None) -> None:
    """`--since` and `--until` days: each a valid day, and not the wrong way round."""
    for option, value in (("--since", since), ("--until", until)):
        if value:
            try:
                parse_day(value)
            except ValueError as error:
                raise UsageError(f"{option}: {error}") from None
    if since and until and parse_day(until) < parse_day(since):
        raise UsageError("--until is before --since")


def reader_for(config: Config) -> ArchiveReader:
    """The reader of the configured archive (the process's one store)."""
    return ArchiveReader(shared_store(config.archive), config.archive.read_concurrency)


def day_range(args: argparse.Namespace) -> tuple[date | None, date | None]:
    """`--since` and `--until` as days (either may be absent); a bad day is a usage error."""
    try:
        since = parse_day(args.since) if args.since else None
        until = parse_day(args.until) if args.until else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    return since, until


def ls_line(article: ArchivedArticle) -> str:
    """`published  site  id[ vN]  title  [tickers]`, the line `ls` prints."""
    version = f" v{article.version}" if article.version > 1 else ""
    tickers = f"  [{' '.join(article.tickers)}]" if article.tickers else ""
    generic = f"  [{article.extraction} text]" if article.extraction else ""
    return (
        f"{article.published:%Y-%m-%d %H:%M}  {article.site:7}  "
        f"{article.id}{version}  {article.title}{tickers}{generic}"
    )


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", choices=SITE_NAMES)
    parser.add_argument("--since", help="published on or after YYYY-MM-DD (Beijing date)")
    parser.add_argument("--until", help="published on or before YYYY-MM-DD (Beijing date)")
    parser.add_argument("--ticker", help="mentions this ticker, e.g. BABA.US")
