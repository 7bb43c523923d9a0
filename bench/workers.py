"""Scale-out on the Redis frontier: seeding a huge URL list, then 1, 2 and 3 workers, one run.

    python bench/workers.py [--seed-lines 1000000] [--articles 1500]

1. Seeding: `newsarchive backfill --urls-file` with a generated file of N article URLs (both
   sites) into an empty local archive: lines/s and the command's peak RSS (bounded memory:
   the file is streamed a batch at a time, so the peak does not grow with N).
2. Workers: the local mirror serving the fixture pages plus N generated articles, a
   redis-server on a free port, a `weed mini` S3 server as the shared archive. For 1, 2 and
   3 workers (a fresh bucket and frontier each time): seed every article URL, start the
   workers, time until the frontier has nothing queued or in flight. Prints pages/min and the
   ratio to one worker. The shared rate limit is off here (the tests prove it holds). Twice:
   with no latency (the mirror answers at once: CPU-bound, and on 2 cores the workers, the
   mirror, Redis and weed share the CPU) and with `--latency` per answer (a real site's round
   trip, each worker polite at 4 requests in flight per site): the case workers are for.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.crawl_throughput import config_text  # noqa: E402
from crawler.frontier.queue import Frontier, connect  # noqa: E402
from crawler.mirror.catalog import Catalog  # noqa: E402
from crawler.mirror.fixtures import iter_fixtures  # noqa: E402
from crawler.mirror.server import MirrorServer  # noqa: E402
from tests.support.redisserver import RedisServer  # noqa: E402
from tests.support.s3server import WeedMini  # noqa: E402

SITES = ("futu", "tencent")


def newsarchive(config: Path, *args: str, env: dict[str, str]) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", "--config", str(config), *args]


def peak_rss_kib(process: subprocess.Popen[bytes]) -> int:
    """Poll a child's VmHWM (its peak RSS) until it exits."""
    peak = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.2)
    return peak


def bench_seeding(lines: int, workdir: Path, redis: RedisServer, env: dict[str, str]) -> None:
    path = workdir / "urls.txt"
    with path.open("w") as out:
        for n in range(lines):
            if n % 2:
                out.write(f"https://news.futunn.com/post/{30000000 + n}\n")
            else:
                out.write(f"https://news.qq.com/rain/a/20251101A{n:07d}00\n")
    config = workdir / "seed.toml"
    # Seeding reads no site: the archive and the spool are all it needs.
    config.write_text(
        f'[archive]\nlocation = "{workdir / "seed-archive"}"\nspool_dir = "{workdir / "spool"}"\n'
    )
    for attempt in ("first run", "same file again"):
        started = time.perf_counter()
        process = subprocess.Popen(
            newsarchive(config, "backfill", "--urls-file", str(path), env=env),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        peak = peak_rss_kib(process)
        output, errors = process.communicate()
        elapsed = time.perf_counter() - started
        said = (
            output.decode().strip().splitlines()[-1] if output.strip() else errors.decode()[-500:]
        )
        print(
            f"seeding {lines:,} lines ({attempt}): {elapsed:.1f} s, {lines / elapsed:,.0f} "
            f"lines/s, peak RSS {peak / 1024:.0f} MiB\n    {said}"
        )
    redis.client().flushall()


def bench_workers(
    articles: int, latency: float, workdir: Path, redis: RedisServer, env: dict[str, str]
) -> None:
    """1, 2, 3 workers; with `latency`, each mirror answer takes that long (a real site's
    round trip) and each worker keeps its politeness of 4 requests in flight per site."""
    catalog = Catalog(iter_fixtures(), extra_articles=articles)
    urls = [catalog.url(item) for item in catalog.items if item.is_article]
    listed = workdir / "articles.txt"
    listed.write_text("\n".join(urls) + "\n")
    weed = WeedMini(workdir / f"weed-{int(latency * 1000)}").start()
    frontier = Frontier(connect(redis.url))
    rates: dict[int, float] = {}
    try:
        per_domain = 4 if latency else 16
        mirror_server = MirrorServer(catalog.routes(), handlers=catalog.handlers(), delay=latency)
        print(f"mirror latency {latency:g} s, {per_domain} requests in flight per site and worker")
        with mirror_server as mirror:
            for workers in (1, 2, 3):
                bucket = f"bench-workers-{workers}-{int(latency * 1000)}"
                weed.client().create_bucket(Bucket=bucket)
                redis.client().flushall()
                run_env = {**env, **weed.env()}
                folder = workdir / f"w{workers}-{int(latency * 1000)}"
                folder.mkdir()
                config = folder / "bench.toml"
                config.write_text(
                    config_text(
                        mirror,
                        folder,
                        f"s3://{bucket}/news",
                        'addressing_style = "path"',
                        per_domain,
                        {site: {"shared_rate": 0} for site in SITES},
                    )
                )
                subprocess.run(
                    newsarchive(config, "backfill", "--urls-file", str(listed), env=run_env),
                    cwd=ROOT,
                    env=run_env,
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
                started = time.perf_counter()
                command = newsarchive(config, "worker", "--idle-exit", "2", env=run_env)
                children = [
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=run_env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for _ in range(workers)
                ]
                while True:
                    rows = [frontier.progress(site) for site in SITES]
                    if sum(r.queued + r.in_flight for r in rows) == 0:
                        break
                    if all(child.poll() is not None for child in children):
                        break
                    time.sleep(0.1)
                elapsed = time.perf_counter() - started
                for child in children:
                    child.wait(timeout=120)
                archived = sum(r.archived for r in rows)
                rates[workers] = archived / elapsed * 60
                print(
                    f"{workers} worker(s): {archived} articles in {elapsed:.1f} s, "
                    f"{rates[workers]:,.0f} pages/min, ratio to one worker "
                    f"{rates[workers] / rates[1]:.2f}"
                )
    finally:
        weed.stop()


def main() -> int:
    options = argparse.ArgumentParser()
    options.add_argument("--seed-lines", type=int, default=1_000_000)
    options.add_argument("--articles", type=int, default=1500)
    options.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.2])
    opts = options.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSARCHIVE_", "AWS_"))}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        redis = RedisServer(workdir / "redis").start()
        env["NEWSARCHIVE_REDIS"] = redis.url
        try:
            if opts.seed_lines:
                bench_seeding(opts.seed_lines, workdir, redis, env)
            for latency in opts.latency if opts.articles else ():
                bench_workers(opts.articles, latency, workdir, redis, env)
        finally:
            redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
