"""`newsarchive index` and `newsarchive search`: full-text search of the archive.

The index is one local SQLite file (`[search] path`), built from the archive's per-day index
and texts, on a local folder or S3 alike. Every crawl refreshes it at its end
(crawler/runs/session.py) when `[search] auto_index` says so (by default when the archive is
a local folder).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crawler.commands.common import UsageError, day_range, positive_int, reader_for
from crawler.config import Config
from crawler.sites import SITE_NAMES
from crawler.stats import Exit, counted
from pipelines.read.query import MARK_END, MARK_START, QueryError
from pipelines.read.search import SearchIndex
from pipelines.store import check_store


def add_arguments(commands: Any) -> None:
    index = commands.add_parser("index", help="build or refresh the full-text search index")
    _filters(index)
    search = commands.add_parser("search", help="full-text search (Chinese and English)")
    search.add_argument("query", help='words and "quoted phrases", all required')
    _filters(search)
    search.add_argument("--ticker", help="mentions this ticker, e.g. BABA.US")
    search.add_argument("--lang", help="language, e.g. en, zh (zh-CN and zh-HK), zh-HK")
    search.add_argument("--limit", type=positive_int, default=20, help="hits to show (20)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", choices=SITE_NAMES)
    parser.add_argument("--since", help="published on or after YYYY-MM-DD (Beijing date)")
    parser.add_argument("--until", help="published on or before YYYY-MM-DD (Beijing date)")


def open_index(config: Config) -> SearchIndex:
    return SearchIndex(config.search.index_path(config.archive.spool_dir))


def cmd_index(args: argparse.Namespace, config: Config) -> int:
    from tqdm import tqdm

    since, until = day_range(args)
    reader = reader_for(config)
    check_store(reader.store)
    with (
        open_index(config) as index,
        tqdm(desc="index", unit="article", file=sys.stderr, disable=None) as bar,
    ):
        counts = index.refresh(reader, args.site, since, until, progress=bar.update)
        total = index.count()
    print(
        f"indexed {counted(counts['indexed'], 'article')} from "
        f"{counted(counts['segments'], 'new day segment')} "
        f"({total} in the index: {index.path})"
    )
    return Exit.OK


def cmd_search(args: argparse.Namespace, config: Config) -> int:
    since, until = day_range(args)
    path = config.search.index_path(config.archive.spool_dir)
    if not path.is_file():
        raise UsageError(f"no search index at {path}: run `newsarchive index` first")
    with open_index(config) as index:
        try:
            hits = index.search(
                args.query, args.site, since, until, args.ticker, args.lang, args.limit
            )
        except QueryError as error:
            raise UsageError(str(error)) from None
    for hit in hits:
        if args.json:
            print(json.dumps(hit.to_dict(), ensure_ascii=False))
            continue
        tickers = f"  [{' '.join(hit.tickers)}]" if hit.tickers else ""
        removed = "  [removed]" if hit.removed else ""
        generic = f"  [{hit.extraction} text]" if hit.extraction else ""
        print(
            f"{hit.published[:16].replace('T', ' ')}  {hit.site:7}  {hit.id}  "
            f"{hit.title}{tickers}{removed}{generic}"
        )
        print(f"    {_terminal(hit.snippet)}")
    if not args.json:
        print(counted(len(hits), "hit"), file=sys.stderr)
    return Exit.OK


def _terminal(snippet: str) -> str:
    """Matches in bold on a terminal, in [brackets] otherwise."""
    single = " ".join(snippet.split())
    if sys.stdout.isatty():
        return single.replace(MARK_START, "\033[1m").replace(MARK_END, "\033[0m")
    return single.replace(MARK_START, "[").replace(MARK_END, "]")


COMMANDS = {"index": cmd_index, "search": cmd_search}
