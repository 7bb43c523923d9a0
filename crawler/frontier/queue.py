"""The shared Redis frontier of a backfill: what is queued, claimed, archived or failed.

scrapy-redis owns the queue workers read: its RedisSpider takes JSON entries from the
`<site>:start_urls` list (crawler/frontier/workers.py). This module owns the rest, as plain
Redis structures any machine can read:

    newsarchive:<site>:start_urls   list of {"id", "url"[, "capture"]}: queued, not claimed yet
    newsarchive:<site>:pending      set of ids queued or claimed (the duplicate filter)
    newsarchive:<site>:inflight     hash id -> {"worker", "at", "data"}: claimed by a worker
    newsarchive:<site>:archived     set of ids archived through the frontier
    newsarchive:<site>:failed       hash id -> outcome: ended without an article
    newsarchive:<site>:done:<min>   settled per minute (an hour kept): the rate
    newsarchive:<site>:rate         the next free request slot of the shared rate limit
    newsarchive:worker:<id>         a live worker's heartbeat (expires when it stops)

Claiming is one Lua script (LRANGE, LTRIM and the in-flight entries together), so a worker
killed at any moment leaves every id either queued or in flight under its name; a backfill run
puts back the in-flight ids of workers whose heartbeat is gone. The per-URL story (queued,
then the fetch outcome) is also written to the archive-state outcome log by the seeder and
the workers: Redis is the live frontier, the log the record.

No Scrapy import: the `backfill` command seeds and reports without starting a crawl.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.maint_notifications import MaintNotificationsConfig
from redis.retry import Retry

PREFIX = "newsarchive"
REDIS_URL = "REDIS_URL"  # scrapy-redis's setting: the frontier's Redis (set on workers only)
HEARTBEAT_SECONDS = 5.0  # how often a worker says it is alive
HEARTBEAT_TTL = 30  # seconds without a heartbeat before its claims are taken back
RATE_WINDOW_MINUTES = 5  # the rate `backfill --status` shows is over this many minutes
SEED_BATCH = 1000  # ids looked up and queued per Redis round trip
# A Redis that restarts is waited for: every command retries with backoff for about this long.
RECONNECT_SECONDS = 60

RedisError = redis.exceptions.RedisError
Unreachable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

_CLAIM = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then redis.call('LTRIM', KEYS[1], #items, -1) end
for _, item in ipairs(items) do
  local id = cjson.decode(item)['id']
  redis.call('HSET', KEYS[2], id, cjson.encode({worker = ARGV[2], at = ARGV[3], data = item}))
end
return items
"""
# The shared rate limit as evenly spaced slots (GCRA): each request takes the next free slot
# on the server's clock, 1/rate apart, whichever worker asks; the answer is how long to wait.
_RESERVE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now_us, free)
local ttl_ms = math.ceil((slot - now_us + interval) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', ttl_ms)
return slot - now_us
"""


class FrontierError(Exception):
    """Redis cannot be used: unreachable, password refused, not a Redis. One line, exit 2."""


def redact(url: str) -> str:
    """A Redis URL fit for a log line: the password (and user) replaced."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def connect(url: str, reconnect_seconds: float = RECONNECT_SECONDS) -> redis.Redis:
    """A client for `url` (redis://, rediss:// for TLS, unix://), checked with a PING.

    Commands that meet a dropped connection retry with exponential backoff for about
    `reconnect_seconds`: a Redis restart makes workers wait, not crash."""
    retries = max(int(reconnect_seconds / 2), 1)
    try:
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=10,
            socket_connect_timeout=5,
            health_check_interval=15,
            retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries),
            retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
            # a Redis Enterprise feature; an open-source server answers every new connection
            # with an "unknown subcommand" the client logs
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
        )
    except ValueError as error:
        raise FrontierError(f"not a Redis URL: {redact(url)} ({error})") from None
    probe = redis.Redis.from_url(
        url,
        socket_timeout=5,
        socket_connect_timeout=5,
        maint_notifications_config=MaintNotificationsConfig(enabled=False),
    )
    try:
        probe.ping()
    except redis.exceptions.AuthenticationError:
        said = "refused the password" if urlsplit(url).password else "needs a password"
        raise FrontierError(f"Redis at {redact(url)} {said}") from None
    except redis.exceptions.ResponseError as error:
        raise FrontierError(f"Redis at {redact(url)}: {error}") from None
    except RedisError as error:
        raise FrontierError(f"Redis at {redact(url)} not reachable: {_reason(error)}") from None
    finally:
        probe.close()
    return client


def _reason(error: Exception) -> str:
    text = str(error).split(". ")[0]
    return text.replace("\n", " ")[:200]


def key(site: str, name: str) -> str:
    return f"{PREFIX}:{site}:{name}"


def start_urls_key_pattern() -> str:
    """scrapy-redis's REDIS_START_URLS_KEY: `%(name)s` is the spider's name, the site's."""
    return f"{PREFIX}:%(name)s:start_urls"


def worker_key(worker: str) -> str:
    return f"{PREFIX}:worker:{worker}"


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def entry(article_id: str, url: str, capture: Mapping[str, Any] | None = None) -> str:
    """A queue entry: what a worker needs to fetch the article (from the site, or from the
    web archive that holds `capture`)."""
    data: dict[str, Any] = {"id": article_id, "url": url}
    if capture is not None:
        data["capture"] = dict(capture)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class SiteProgress:
    site: str
    queued: int
    in_flight: int
    archived: int
    failed: int
    per_minute: float  # settled per minute over the last RATE_WINDOW_MINUTES
    workers: int

    @property
    def total(self) -> int:
        return self.queued + self.in_flight + self.archived + self.failed


@dataclass
class Frontier:
    """One Redis's frontier, for the sites of this project."""

    client: redis.Redis
    _scripts: dict[str, Any] = field(default_factory=dict)

    def _script(self, name: str, source: str) -> Any:
        if name not in self._scripts:
            self._scripts[name] = self.client.register_script(source)
        return self._scripts[name]

    # --- working (crawler/frontier/workers.py) -------------------------------------------------

    def claim(self, site: str, count: int, worker: str) -> list[str]:
        """Take up to `count` queue entries for this worker, in flight under its name."""
        items: list[str] = self._script("claim", _CLAIM)(
            keys=[key(site, "start_urls"), key(site, "inflight")],
            args=[count, worker, time.time()],
        )
        return items

    def settle(self, settled: Iterable[tuple[str, str, str | None]]) -> None:
        """Ids that ended: (site, id, None) archived, (site, id, outcome) without an article."""
        minute = int(time.time() // 60)
        with self.client.pipeline(transaction=True) as pipe:
            for site, article_id, failed in settled:
                pipe.hdel(key(site, "inflight"), article_id)
                pipe.srem(key(site, "pending"), article_id)
                if failed is None:
                    pipe.sadd(key(site, "archived"), article_id)
                    pipe.hdel(key(site, "failed"), article_id)
                else:
                    pipe.hset(key(site, "failed"), article_id, failed)
                done = key(site, f"done:{minute}")
                pipe.incr(done)
                pipe.expire(done, 3600)
            pipe.execute()

    def release(self, site: str, worker: str) -> int:
        """Put back on the queue what this worker claimed and did not finish (it stops)."""
        released = 0
        for article_id, value in self.client.hgetall(key(site, "inflight")).items():
            claim = json.loads(value)
            if claim["worker"] != worker:
                continue
            with self.client.pipeline(transaction=True) as pipe:
                pipe.hdel(key(site, "inflight"), article_id)
                pipe.lpush(key(site, "start_urls"), claim["data"])  # first in line again
                pipe.execute()
            released += 1
        return released

    def heartbeat(self, worker: str, sites: Iterable[str]) -> None:
        beat = {"sites": sorted(sites), "host": socket.gethostname(), "pid": os.getpid()}
        self.client.set(worker_key(worker), json.dumps(beat), ex=HEARTBEAT_TTL)

    def alive(self, worker: str) -> bool:
        """A worker whose heartbeat has not expired; on this machine, one whose process
        still runs (a SIGKILLed worker's claims need not wait out its heartbeat)."""
        beat = self.client.get(worker_key(worker))
        if beat is None:
            return False
        seen = json.loads(beat)
        if seen.get("host") == socket.gethostname() and seen.get("pid"):
            try:
                os.kill(int(seen["pid"]), 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return True

    def retire(self, worker: str) -> None:
        """A worker that stops in order: its claims (if any) are free at once."""
        self.client.delete(worker_key(worker))

    def reserve(self, site: str, per_second: float) -> float:
        """Seconds to wait before this request may go: the site's shared rate limit."""
        interval = max(int(1_000_000 / per_second), 1)
        wait_us = self._script("reserve", _RESERVE)(keys=[key(site, "rate")], args=[interval])
        return float(wait_us) / 1_000_000

    # --- reporting ------------------------------------------------------------------------

    def progress(self, site: str) -> SiteProgress:
        minute = int(time.time() // 60)
        with self.client.pipeline(transaction=False) as pipe:
            pipe.llen(key(site, "start_urls"))
            pipe.hlen(key(site, "inflight"))
            pipe.scard(key(site, "archived"))
            pipe.hlen(key(site, "failed"))
            # the current minute counts in part: the window is the last full minutes plus it
            minutes = range(minute - RATE_WINDOW_MINUTES, minute + 1)
            pipe.mget([key(site, f"done:{m}") for m in minutes])
            queued, in_flight, archived, failed, done = pipe.execute()
        elapsed = RATE_WINDOW_MINUTES + (time.time() % 60) / 60
        per_minute = sum(int(n or 0) for n in done) / elapsed
        return SiteProgress(
            site, queued, in_flight, archived, failed, per_minute, len(self.live_workers(site))
        )

    def live_workers(self, site: str | None = None) -> list[str]:
        workers = []
        for name in self.client.scan_iter(match=worker_key("*"), count=1000):
            worker = str(name).rsplit(":", 1)[1]
            sites = json.loads(self.client.get(name) or "{}").get("sites", [])
            if (site is None or site in sites) and self.alive(worker):
                workers.append(worker)
        return workers

    def failures(self, site: str) -> dict[str, int]:
        """How many ids ended with each outcome, for `--status`."""
        counts: dict[str, int] = {}
        for value in self.client.hvals(key(site, "failed")):
            outcome = str(value)
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts
