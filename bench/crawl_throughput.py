"""Crawl throughput of a full discovery crawl -> parse -> archive vs `scrapy bench`, one run.

    python bench/crawl_throughput.py [--articles 5000] [--bench-seconds 20]

Prints pages/min of `scrapy bench` (Scrapy's own local benchmark: fetch + link extraction,
no parsing, no storage), then of `newsarchive crawl` over the local mirror holding the
fixture pages plus N generated articles, archived into (a) the local folder and (b) a
`weed mini` S3 server, with the ratio to scrapy bench and each crawl's peak RSS
and its RSS at each quarter of the run (flat memory: the quarters stay level).
The mirror runs in this process; both compete for the same 2 cores, as they would on a
small crawl box.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.mirror.catalog import Catalog  # noqa: E402
from crawler.mirror.fixtures import iter_fixtures  # noqa: E402
from crawler.mirror.server import MirrorServer  # noqa: E402
from tests.support.configs import sites_toml  # noqa: E402
from tests.support.s3server import WeedMini  # noqa: E402

RSS_SAMPLE_SECONDS = 0.5


def rss_kib(pid: int) -> int:
    """Resident set size of one process now (Linux /proc), 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match[1]) if match else 0


def measured(args: list[str], env: dict[str, str]) -> tuple[str, str, float, list[int]]:
    """Run a command; its output, wall time and RSS samples (KiB) taken through the run."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        samples = []
        while process.poll() is None:
            samples.append(rss_kib(process.pid))
            time.sleep(RSS_SAMPLE_SECONDS)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return out.read(), err.read(), elapsed, [s for s in samples if s] or [0]


def rss_profile(samples: list[int]) -> str:
    """Peak RSS, and RSS at each quarter of the run: flat memory shows as equal quarters."""
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in (1, 2, 3, 4)]
    shown = " / ".join(f"{q / 1024:.0f}" for q in quarters)
    return f"peak RSS {max(samples) / 1024:6.0f} MiB (at 1/4, 1/2, 3/4, end: {shown} MiB)"


def scrapy_bench(seconds: int) -> tuple[float, list[int]]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": ""}
    _, err, _, rss = measured(
        [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"], env
    )
    rates = [int(x) for x in re.findall(r"at (\d+) pages/min", err)]
    return max(rates), rss


# Listings as long as the mirror serves them.
SITE_EXTRA: dict[str, dict[str, object]] = {
    "futu": {"headline_size": 100000, "flash_page_size": 100, "max_pages": 100000},
    "tencent": {"item_count": 50, "max_pages": 100000},
}


def config_text(mirror: MirrorServer, archive: str, extra_archive: str = "") -> str:
    return f"""
[archive]
location = "{archive}"
{extra_archive}
[crawl]
download_delay = 0
autothrottle = false
concurrent_requests_per_domain = 16
log_level = "WARNING"
{sites_toml(mirror, SITE_EXTRA)}"""


def our_crawl(workdir: Path, config: str, env: dict[str, str]) -> tuple[float, list[int], int]:
    path = workdir / "bench.toml"
    path.write_text(config, encoding="utf-8")
    args = [
        sys.executable,
        "-m",
        "crawler.cli",
        "--config",
        str(path),
        "crawl",
        "--since",
        "2000-01-01",
    ]
    out, err, elapsed, rss = measured(args, env)
    fetched = sum(int(x) for x in re.findall(r"fetched (\d+)", out))
    archived = sum(int(x) for x in re.findall(r", archived (\d+)", out))
    if archived == 0:
        raise SystemExit(f"crawl archived nothing:\n{out}\n{err[-2000:]}")
    return fetched / elapsed * 60, rss, archived


def main() -> int:
    options = argparse.ArgumentParser()
    options.add_argument("--articles", type=int, default=5000)
    options.add_argument("--bench-seconds", type=int, default=20)
    opts = options.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSARCHIVE_", "AWS_"))}

    bench_rate, bench_rss = scrapy_bench(opts.bench_seconds)
    label = "scrapy bench:"
    print(f"{label:34} {bench_rate:8.0f} pages/min  {rss_profile(bench_rss)}")

    catalog = Catalog(iter_fixtures(), extra_articles=opts.articles)
    with (
        tempfile.TemporaryDirectory() as tmp,
        MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror,
    ):
        workdir = Path(tmp)
        local = our_crawl(workdir, config_text(mirror, str(workdir / "archive")), env)
        weed = WeedMini(workdir / "weed").start()
        try:
            weed.client().create_bucket(Bucket="bench")
            extra = 'addressing_style = "path"\nendpoint_url = "' + weed.endpoint + '"'
            s3 = our_crawl(
                workdir, config_text(mirror, "s3://bench/news", extra), {**env, **weed.env()}
            )
        finally:
            weed.stop()
    for name, (rate, rss, archived) in (("local folder", local), ("weed mini (S3)", s3)):
        print(
            f"newsarchive crawl -> {name:14} {rate:8.0f} pages/min  ratio to scrapy bench "
            f"{rate / bench_rate:5.2f}  ({archived} articles archived)\n{'':36}{rss_profile(rss)}"
        )
    print("target: ratio >= 0.60")
    return 0


if __name__ == "__main__":
    sys.exit(main())
