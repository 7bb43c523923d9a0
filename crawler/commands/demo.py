"""`newsarchive mirror` and `newsarchive demo`: the sample pages served offline, and crawled."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.commands.common import UsageError, ls_line
from crawler.config import Config, RevisitConfig
from crawler.runs.session import RunRequest, prepare, run_and_finish
from crawler.sites import SITE_NAMES
from crawler.stats import Exit, counted
from pipelines.read.reader import ArchiveReader
from pipelines.state import ArchiveState

if TYPE_CHECKING:
    from crawler.mirror.fixtures import Fixture
    from crawler.mirror.server import MirrorServer

DEMO_LS_LINES = 5
DEMO_TEXT_CHARS = 400


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
    print(f"mirror of {counted(len(catalog.items), 'article')} on {server.url}", file=sys.stderr)
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
    from crawler.parsers import identify

    fixtures = list(iter_fixtures())
    catalog = Catalog(fixtures)
    on_purpose = {identify(f.url).url: f for f in fixtures if f.demo_note}
    store = prepare(config, args.log_file)
    changed = [f for f in fixtures if f.demo_change]
    later_run = any(
        ArchiveState(store, config.archive.spool_dir).is_archived(f.site, identify(f.url).id)
        for f in changed
    )
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror:
        print(f"mirror of {len(catalog.items)} listed articles on {mirror.url}", file=sys.stderr)
        if later_run:
            apply_site_changes(mirror, changed)
        # The demo's pages are old and its runs seconds apart: revisit what the first run
        # archived as soon as the second run comes.
        demo_config = dataclasses.replace(
            mirrored(config, mirror), revisit=RevisitConfig(ages=DEMO_REVISIT_AGES)
        )
        request = RunRequest(
            {site: None for site in SITE_NAMES},
            command="demo",
            kind="demo",
            overrides={"LOG_LEVEL": "WARNING", "DOWNLOAD_DELAY": 0},
            log_file=args.log_file,
            lock=False,
            expected_failures=frozenset(on_purpose),
        )
        summary, _ = run_and_finish(demo_config, request, store)
    runs = summary.sites
    if later_run:
        print_site_changes(changed)
    archived = sum(run.counts["archived"] + run.counts["new_versions"] for run in runs.values())
    if archived == 0:
        print("nothing new: every listed article is already in the archive")
    print_on_purpose(on_purpose, catalog.demo_notes())
    reader = ArchiveReader(store)
    newest = sorted(reader.articles(), key=lambda a: a.published, reverse=True)
    print(f"\n$ newsarchive ls   (newest {min(DEMO_LS_LINES, len(newest))} of {len(newest)})")
    removals = reader.removals()
    for article in newest[:DEMO_LS_LINES]:
        marker = removals.get((article.site, article.id), {})
        print(ls_line(article) + ("  [removed]" if marker.get("event") == "removed" else ""))
    if newest:
        print_one_article(reader, newest[0].id, newest[0].site)
    print(NEXT_STEPS)
    return Exit.OK


NEXT_STEPS = """
Next:
  newsarchive ls --since 2025-01-01                    list what is archived
  newsarchive show ID --text                           one article's clean text (--raw: as served)
  newsarchive runs                                     what each run did
  newsarchive verify                                   fixity audit: every stored object as recorded
  newsarchive export --format wacz -o demo.wacz        the captures as a WACZ for ReplayWeb.page
  newsarchive crawl --url URL                          archive one real article page
  newsarchive crawl                                    a nightly discovery run (cron: see README)
  newsarchive schedule --list                          the scheduler's jobs and next run times"""


DEMO_REVISIT_AGES = ("1s",)


def apply_site_changes(mirror: MirrorServer, changed: list[Fixture]) -> None:
    """What the sites did since the last demo run: an article edited, one taken down."""
    for fixture in changed:
        change = fixture.demo_change or {}
        if "edit" in change:
            old, new = change["edit"]
            mirror.edit(fixture.url, old.encode(), new.encode())
        if change.get("delete"):
            mirror.delete(fixture.url)


def print_site_changes(changed: list[Fixture]) -> None:
    from crawler.parsers import identify

    print("\nSince the last demo run the mirror edited and deleted articles, as sites do;")
    print("this run revisited what was archived and kept every version:")
    for fixture in changed:
        article_id = identify(fixture.url).id
        if "edit" in (fixture.demo_change or {}):
            print(f"  edited:  newsarchive diff {article_id}")
        else:
            print(f"  removed: newsarchive show {article_id}   (newsarchive ls --removed)")


def print_on_purpose(pages: dict[str, Fixture], notes: list[str]) -> None:
    """The demo's deliberate failures, and why each is there."""
    print("\nThe mirror also serves pages that must not become articles, on purpose:")
    for url, fixture in sorted(pages.items()):
        print(f"  {fixture.name}: {fixture.demo_note}\n    {url}")
    for note in notes:
        print(f"  {note}")
    print("A real night with such pages reports them as PROBLEM lines and exits 1.")


def print_one_article(reader: ArchiveReader, article_id: str, site: str) -> None:
    """What `newsarchive show` prints, for the newest article: the text without boilerplate."""
    (record, *_) = reversed(reader.find(article_id, site))
    text = str(record["text"])
    shown = text if len(text) <= DEMO_TEXT_CHARS else text[:DEMO_TEXT_CHARS].rstrip() + " ..."
    print(
        f"\n$ newsarchive show {article_id}   (its text: no disclaimers, share or comment widgets)"
    )
    print(f"{record['title']}\n{record['published']}  {record['url']}\n\n{shown}")


COMMANDS = {"mirror": cmd_mirror, "demo": cmd_demo}
