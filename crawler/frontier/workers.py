"""Crawl workers on the shared Redis frontier (frontier/queue.py), built on scrapy-redis.

A worker runs each site's own spider with scrapy-redis's `RedisMixin` in front: it reads
article entries from `newsarchive:<site>:start_urls` (REDIS_START_URLS_KEY), builds requests
with `make_request_from_data`, and asks for more when idle, closing after
MAX_IDLE_TIME_BEFORE_CLOSE seconds of nothing (`--idle-exit`). What we change, and why:

- `start()`: scrapy-redis 0.9 feeds Scrapy through `start_requests()`, which Scrapy 2.13+
  only calls from its default `start()`; our spiders define `start()`, so the mixin does too.
- Claiming (`pop_list_queue`) is the frontier's Lua script, so every entry taken is in flight
  under this worker's name; scrapy-redis's LRANGE+LTRIM would forget it if the worker died.
- The idle handler claims in a thread instead of in the reactor, and treats a Redis that does
  not answer as "wait", not "idle": a Redis restart neither freezes nor closes a worker.
- A worker also claims ahead: when a page ends and it holds less than a batch, it takes the
  next one while the current one downloads. scrapy-redis claims only when the spider is idle,
  which leaves download slots empty at the end of every batch (one worker ran at half speed
  against a site answering in 0.2 s).
- Requests stay in each worker's own scheduler: an entry is fetched by the worker that
  claimed it, so a killed worker's unfinished ids are exactly its in-flight claims. Duplicates
  are filtered by article id when queued (the frontier's `pending` and `archived` sets), which
  catches two URLs of one article that a request fingerprint would not.

Settling: an id ends archived when its ArticleItem has passed the pipeline (`item_scraped`),
or with its outcome when the spider accounts for a page that gave no article. Settles, the
heartbeat and claims go to Redis from threads, batched once a second.

The shared per-site rate of all workers is a downloader middleware
(crawler/middlewares/rate_limit.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from typing import Any

import scrapy
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.asyncio import run_in_thread
from scrapy_redis.spiders import RedisMixin
from twisted.internet import task, threads
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler.frontier.queue import (
    HEARTBEAT_SECONDS,
    REDIS_URL,
    Frontier,
    RedisError,
    connect,
    start_urls_key_pattern,
)
from crawler.outcomes import ARCHIVING
from crawler.stats import Stat
from crawler.webarchive.cdx import Capture
from crawler.webarchive.options import SOURCES, HistoryOptions
from crawler.webarchive.replay import replay_request

LOG = logging.getLogger(__name__)
WORKER_ID = "NEWSARCHIVE_WORKER_ID"  # setting: this worker's name in the frontier
SETTLE_SECONDS = 1.0


class FrontierClient:
    """scrapy-redis's client class (REDIS_PARAMS `redis_cls`): the frontier's own client,
    with its reconnect retries, rather than one from scrapy-redis's defaults (which pass
    `retry_on_timeout`, deprecated since redis-py 6)."""

    @staticmethod
    def from_url(url: str, **_: Any) -> Any:
        return connect(url)


def worker_settings(
    url: str, worker: str, idle_exit: float, history: HistoryOptions
) -> dict[str, Any]:
    """The Scrapy settings that make a crawl a frontier worker. Entries queued from a web
    archive are fetched from it one at a time per host; their spacing across all workers is
    the shared rate (crawler/middlewares/rate_limit.py)."""
    slots = {
        host: {"concurrency": 1, "delay": 0.0}
        for source in SOURCES
        for host in history.download_slots(source)
    }
    return {
        "DOWNLOAD_SLOTS": slots,
        REDIS_URL: url,
        "REDIS_PARAMS": {"redis_cls": FrontierClient},
        WORKER_ID: worker,
        "REDIS_START_URLS_KEY": start_urls_key_pattern(),
        "MAX_IDLE_TIME_BEFORE_CLOSE": int(idle_exit),
    }


def worker_spider(spider_cls: type[scrapy.Spider]) -> type[scrapy.Spider]:
    """The site's spider, reading the shared frontier instead of discovering, and fetching an
    entry that carries a web-archive capture from that archive. The one class made at run
    time: scrapy-redis builds its spiders by putting its mixin in front of a spider class."""
    return type(f"{spider_cls.__name__}OnFrontier", (FrontierMixin, spider_cls), {})


def _capture_of(entry: dict[str, Any]) -> Capture | bool | None:
    """The web-archive capture an entry carries (`backfill --from`), None when it carries
    none, False when what it carries is no capture."""
    if "capture" not in entry:
        return None
    try:
        return Capture.from_data(entry["capture"])
    except ValueError:
        return False


class FrontierMixin(RedisMixin):
    """scrapy-redis's RedisMixin over an ArticleSpider (see the module docstring): the
    frontier is this spider's source of requests, and its outcome ledger tells it what to
    settle."""

    # The ArticleSpider's, behind this mixin (crawler/spiders/base.py):
    site: str
    crawler: Crawler
    logger: Any
    config: Any
    parser: Any
    plan: Any
    outcome_listeners: list[Any]
    # This worker's own:
    frontier: Frontier
    worker_id: str
    unsettled: deque[tuple[str, str, str | None]]  # (site, id, None or outcome) to settle
    claiming: Deferred[list[str]] | None  # a claim on its way from Redis
    unreachable_since: float | None
    idle_since: float | None = None  # idle with an empty frontier since
    beat: task.LoopingCall
    last_beat: float = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)  # its client is the frontier's (FrontierClient)
        spider.frontier = Frontier(spider.server)
        spider.worker_id = crawler.settings[WORKER_ID]
        spider.unsettled = deque()
        spider.claiming = None
        spider.unreachable_since = None
        spider.outcome_listeners.append(spider.outcome)
        crawler.signals.connect(spider.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider.spider_opened_beat, signal=signals.spider_opened)
        return spider

    # --- claiming -------------------------------------------------------------------------

    async def start(self) -> Any:
        try:
            items = await run_in_thread(self.fetch_data, self.redis_key, self.redis_batch_size)
        except RedisError as error:
            self.frontier_down(error)
            items = []
        for data in items:
            request = self.make_request_from_data(data)
            if request is not None:
                yield request

    def pop_list_queue(self, redis_key: str, batch_size: int) -> list[str]:
        return self.frontier.claim(self.site, batch_size, self.worker_id)

    def make_request_from_data(self, data: bytes | str) -> Request | None:
        entry = json.loads(data)
        ref = self.parser.identify(entry["url"])
        capture = _capture_of(entry)
        if ref is None or capture is False:  # the seeder queues no such entry: a foreign one
            self.logger.error("frontier entry is no %s article URL: %s", self.site, entry)
            self.unsettled.append((self.site, entry["id"], "unsupported_url"))
            return None
        source_url = capture.original if isinstance(capture, Capture) else entry["url"]
        request = self.plan.request_for(ref, source_url, unindexed=True)
        if request is None:
            return None  # accounted for (and settled) there
        self.crawler.stats.inc_value(Stat.FRONTIER_CLAIMED)
        if isinstance(capture, Capture):
            replay = replay_request(request, capture, self.config.history)
            self.plan.allow_host(replay.url)
            return replay
        return request

    def spider_idle(self) -> None:
        """Claim more, in a thread; close once the frontier has given nothing for
        max_idle_time (`--idle-exit`) while this worker had nothing to do."""
        if self.claiming is None:
            now = time.time()
            if self.idle_since is None:
                self.idle_since = now
            elif self.max_idle_time and now - self.idle_since >= self.max_idle_time:
                return
            self.claim()
        raise DontCloseSpider

    def held_here(self) -> int | None:
        """Requests this worker holds and has not finished (scheduled, downloading or being
        parsed); None when its engine is closing or does not say (the slot is Scrapy's own)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is None or slot.closing is not None:
            return None
        return len(slot.scheduler) + len(slot.inprogress)

    def top_up(self) -> None:
        """Claim the next batch while this one is still downloading, so the last pages of a
        batch do not leave download slots empty until the worker goes idle."""
        if self.claiming is not None or self.unreachable_since is not None:
            return
        held = self.held_here()
        if held is not None and held < self.redis_batch_size:
            self.crawler.stats.inc_value(Stat.FRONTIER_CLAIMED_AHEAD)
            self.claim()

    def claim(self) -> None:
        """Ask the frontier for a batch, in a thread (`claimed` takes the answer)."""
        self.claiming = threads.deferToThread(
            self.fetch_data, self.redis_key, self.redis_batch_size
        )
        self.claiming.addCallbacks(self.claimed, self.claim_failed)

    def claimed(self, items: list[str]) -> None:
        self.claiming = None
        self.frontier_up()
        if items:
            self.idle_since = None
        for data in items:
            request = self.make_request_from_data(data)
            if request is not None:
                self.crawler.engine.crawl(request)

    def claim_failed(self, failure: Failure) -> None:
        self.claiming = None
        self.frontier_down(failure.value)

    def frontier_down(self, error: BaseException | None) -> None:
        """Redis does not answer: wait for it (an outage is not idleness), said once."""
        self.idle_since = None
        if self.unreachable_since is None:
            self.unreachable_since = time.time()
            self.logger.warning("frontier Redis not answering, waiting for it: %s", error)

    def frontier_up(self) -> None:
        if self.unreachable_since is not None:
            down = time.time() - self.unreachable_since
            self.logger.warning("frontier Redis back after %.0f s, going on", down)
            self.unreachable_since = None

    # --- settling -------------------------------------------------------------------------

    def outcome(self, name: str, page_id: str | None) -> None:
        """An outcome the ledger counted (see `outcome_listeners`)."""
        if name not in ARCHIVING and page_id:  # an archived page settles when it is stored
            self.unsettled.append((self.site, page_id, name))
            self.top_up()

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        # What the archive pipeline passes on for a stored (or spooled) article: its feed row.
        if isinstance(item, dict) and item.get("site") == self.site and item.get("id"):
            self.unsettled.append((self.site, str(item["id"]), None))
            self.top_up()

    def spider_opened_beat(self, spider: Any = None) -> None:
        self.frontier.heartbeat(self.worker_id, [self.site])
        self.beat = task.LoopingCall(self.tick)  # not before: it would install a reactor
        self.beat.start(SETTLE_SECONDS, now=False)

    def tick(self) -> Any:
        """Once a second: settle what ended, and say this worker is alive."""
        batch = [self.unsettled.popleft() for _ in range(len(self.unsettled))]
        beat = time.time() - self.last_beat >= HEARTBEAT_SECONDS
        if not batch and not beat:
            return None

        def send() -> None:
            if batch:
                self.frontier.settle(batch)
            if beat:
                self.frontier.heartbeat(self.worker_id, [self.site])

        def sent(_: object) -> None:
            self.frontier_up()
            if beat:
                self.last_beat = time.time()

        def failed(failure: Failure) -> None:
            self.unsettled.extendleft(reversed(batch))  # sent again with the next tick
            self.frontier_down(failure.value)

        return threads.deferToThread(send).addCallbacks(sent, failed)

    def closed(self, reason: str) -> None:
        """Settle what ended, put back what this worker claimed and will not fetch now."""
        beat = getattr(self, "beat", None)
        if beat is not None and beat.running:
            beat.stop()
        try:
            if self.unsettled:
                self.frontier.settle(list(self.unsettled))
                self.unsettled.clear()
            released = self.frontier.release(self.site, self.worker_id)
            if released:
                self.logger.info(
                    "%s: put %d claimed articles back on the frontier", self.site, released
                )
            self.frontier.retire(self.worker_id)
        except RedisError as error:  # the next backfill run puts them back
            self.logger.error("frontier not updated at close: %s", error)
        super().closed(reason)
