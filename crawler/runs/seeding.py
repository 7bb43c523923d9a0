"""The seeding run of `newsarchive backfill`: article ids queued on the shared frontier.

Entries come from a URL file (streamed, memory bounded by one batch), or from the sites'
discovery sources over a date range, or from a web archive's captures in that range (each
entry then carries its capture). Discovery runs through the runner with the seeder as its
sink (SEED_SINK): the spiders list, the seeder queues, and nothing is fetched or reported
here. Imports no command module; `crawler/commands/backfill.py` parses and prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.addon import SEED_SINK
from crawler.config import Config
from crawler.frontier.queue import Frontier
from crawler.frontier.seeder import SeedCounts, Seeder
from crawler.outcomes import QUEUED
from crawler.parsers import UnsupportedURL, identify
from crawler.runs.runner import run_crawl
from crawler.runs.session import RunSetupError
from crawler.sites import SITE_NAMES
from pipelines.state import ArchiveState

LOOKUP_THREADS = 16  # archive existence checks in flight while seeding (S3 round trips)


@dataclass(frozen=True)
class SeedRange:
    """What a discovery seeding asks for: sites, days, and a web archive or the listings."""

    sites: list[str]
    since: str | None
    until: str | None = None
    source: str | None = None  # wayback, commoncrawl; None: the sites' own listings


@dataclass
class Seeded:
    """What a seeding run did, for the command to print."""

    counts: SeedCounts
    unsupported: int = 0  # URL-file lines that are no article URL of any site
    discovery_errors: dict[str, int] = field(default_factory=dict)  # per site
    beyond_reach: list[str] = field(default_factory=list)  # sites whose sources end earlier

    @property
    def problems(self) -> int:
        return sum(self.discovery_errors.values())


def seed(
    frontier: Frontier, config: Config, urls_file: Path | None, asked: SeedRange | None
) -> Seeded:
    """Put back what stopped workers held, then queue the URL file or the range. Each queued
    article gets a `queued` line in the outcome log. Raises RedisError if Redis fails."""
    state = ArchiveState.of(config.archive)
    label = f"backfill {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
    with ThreadPoolExecutor(LOOKUP_THREADS) as pool:

        def archived(site: str, ids: list[str]) -> set[str]:
            held = pool.map(lambda i: state.archived_or_unknown(site, i), ids)
            return {i for i, yes in zip(ids, held, strict=True) if yes}

        def queued(site: str, entries: list[tuple[str, str]]) -> None:
            for article_id, article_url in entries:
                state.record_outcome(site, article_url, QUEUED, article_id, extra={"by": label})

        seeder = Seeder(frontier, archived, queued)
        try:
            for site in SITE_NAMES:
                seeder.requeue_orphans(site)
            if urls_file is not None:
                return Seeded(seeder.counts, unsupported=seed_file(seeder, urls_file))
            assert asked is not None
            return seed_discovery(seeder, config, asked)
        finally:
            state.flush()


def file_entries(path: Path, unsupported: list[int]) -> Iterator[tuple[str, str, str]]:
    """(site, id, canonical URL) of each article URL line, read as a stream."""
    read = 0
    try:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                read += 1
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                try:
                    ref = identify(text)
                except UnsupportedURL:
                    unsupported[0] += 1
                    continue
                yield ref.site, ref.id, ref.url
    except UnicodeDecodeError:
        raise RunSetupError(
            f"{path} is not a UTF-8 text file of URLs (after line {read})"
        ) from None


def seed_file(seeder: Seeder, path: Path) -> int:
    """Queue a URL file; how many of its lines were no article URL."""
    unsupported = [0]
    try:
        seeder.seed(file_entries(path, unsupported))
    except OSError as error:
        raise RunSetupError(f"cannot read {path}: {error.strerror or error}") from None
    return unsupported[0]


def seed_discovery(seeder: Seeder, config: Config, asked: SeedRange) -> Seeded:
    """Run the sites' discovery over the range, queueing what it lists. A listing that
    changed shape is a discovery error, not 'nothing to backfill'."""
    overrides: dict[str, Any] = {SEED_SINK: seeder}
    runs = run_crawl(
        {site: None for site in asked.sites},
        config,
        overrides,
        {"since": asked.since, "until": asked.until, "from_archive": asked.source},
    )
    seeder.flush()
    seeded = Seeded(seeder.counts)
    for site, run in runs.items():
        if run.counts["discovery_errors"]:
            seeded.discovery_errors[site] = run.counts["discovery_errors"]
        if run.beyond_reach:
            seeded.beyond_reach.append(site)
    return seeded
