"""Queueing a backfill: article entries go onto the frontier exactly once, a batch at a time,
skipping what the archive or the frontier already holds. No Scrapy import."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crawler.frontier.queue import SEED_BATCH, Frontier, entry, key


@dataclass
class SeedCounts:
    queued: int = 0
    already_archived: int = 0
    already_queued: int = 0
    requeued: int = 0  # of `queued`: claimed by a worker that stopped, not archived
    settled_archived: int = 0  # claimed by a stopped worker and archived after all

    def line(self) -> str:
        return (
            f"queued {self.queued}, already archived {self.already_archived}, "
            f"already queued {self.already_queued}"
        )


ArchivedLookup = Callable[[str, list[str]], set[str]]  # (site, ids) -> the ids archived
QueuedHook = Callable[[str, list[tuple[str, str]]], None]  # (site, [(id, url)]) just queued
Capture = Mapping[str, Any] | None  # a web-archive capture the worker fetches instead


class Seeder:
    """Queues (site, id, url) entries not archived and not queued yet, a batch at a time.

    `archived(site, ids)` asks the archive which ids it holds; the frontier's own sets
    answer first, so a re-run asks the archive only about ids the frontier does not know.
    `on_queued` hears of each batch queued (the archive-state log). Thread-safe `add`: a
    discovery run hands entries over from Scrapy's thread pool."""

    def __init__(
        self, frontier: Frontier, archived: ArchivedLookup, on_queued: QueuedHook | None = None
    ) -> None:
        self.frontier = frontier
        self.client = frontier.client
        self.archived = archived
        self.on_queued = on_queued
        self.counts = SeedCounts()
        self.requeued: set[tuple[str, str]] = set()
        self.buffer: list[tuple[str, str, str, Capture]] = []
        self.lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> Seeder:
        return self  # handed to spiders as a Scrapy setting, which Scrapy deep-copies: shared

    def seed(self, entries: Iterable[tuple[str, str, str]]) -> SeedCounts:
        for site, article_id, url in entries:
            self.add(site, article_id, url)
        self.flush()
        return self.counts

    def add(self, site: str, article_id: str, url: str, capture: Capture = None) -> None:
        with self.lock:
            self.buffer.append((site, article_id, url, capture))
            if len(self.buffer) >= SEED_BATCH:
                self._flush()

    def flush(self) -> None:
        with self.lock:
            self._flush()

    def _flush(self) -> None:
        batch, self.buffer = self.buffer, []
        by_site: dict[str, dict[str, tuple[str, Capture]]] = {}
        for site, article_id, url, capture in batch:
            urls = by_site.setdefault(site, {})
            if article_id in urls:  # listed twice (two URLs of one article): queued once
                self.counts.already_queued += 1
            urls[article_id] = (url, capture)
        for site, urls in by_site.items():
            self._seed_site(site, urls)

    def _seed_site(self, site: str, urls: dict[str, tuple[str, Capture]]) -> None:
        counts = self.counts
        ids = list(urls)
        pending = self.client.smismember(key(site, "pending"), ids)
        known = self.client.smismember(key(site, "archived"), ids)
        unknown = []
        for article_id, is_pending, is_known in zip(ids, pending, known, strict=True):
            if is_pending:
                if (site, article_id) in self.requeued:
                    self.requeued.discard((site, article_id))  # counted as queued already
                else:
                    counts.already_queued += 1
            elif is_known:
                counts.already_archived += 1
            else:
                unknown.append(article_id)
        held = self.archived(site, unknown) if unknown else set()
        counts.already_archived += len(held)
        fresh = [(i, *urls[i]) for i in unknown if i not in held]
        with self.client.pipeline(transaction=True) as pipe:
            if held:
                pipe.sadd(key(site, "archived"), *held)
            if fresh:
                pipe.sadd(key(site, "pending"), *(i for i, _, _ in fresh))
                pipe.rpush(key(site, "start_urls"), *(entry(i, u, c) for i, u, c in fresh))
                pipe.hdel(key(site, "failed"), *(i for i, _, _ in fresh))
            pipe.execute()
        counts.queued += len(fresh)
        if fresh and self.on_queued is not None:
            self.on_queued(site, [(i, u) for i, u, _ in fresh])

    def requeue_orphans(self, site: str) -> None:
        """Put back on the queue the ids claimed by workers whose heartbeat is gone and that
        are not archived (counted as queued); settle those that are archived after all."""
        inflight = self.client.hgetall(key(site, "inflight"))
        claims = {str(i): json.loads(v) for i, v in inflight.items()}
        if not claims:
            return
        owners = {claim["worker"] for claim in claims.values()}
        alive = {w for w in owners if self.frontier.alive(w)}
        orphans = {i: c for i, c in claims.items() if c["worker"] not in alive}
        held = self.archived(site, list(orphans)) if orphans else set()
        for article_id, claim in orphans.items():
            with self.client.pipeline(transaction=True) as pipe:
                pipe.hdel(key(site, "inflight"), article_id)
                if article_id in held:
                    pipe.srem(key(site, "pending"), article_id)
                    pipe.sadd(key(site, "archived"), article_id)
                else:
                    pipe.rpush(key(site, "start_urls"), claim["data"])
                pipe.execute()
            if article_id in held:
                self.counts.settled_archived += 1
            else:
                self.requeued.add((site, article_id))
                self.counts.requeued += 1
                self.counts.queued += 1
