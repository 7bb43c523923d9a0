"""Crawl throughput of a full discovery crawl -> parse -> archive vs `scrapy bench`, one run.

    python bench/crawl_throughput.py [--articles 5000] [--bench-seconds 20]

Prints pages/min of `scrapy bench` (Scrapy's own local benchmark: fetch + link extraction,
no parsing, no storage), then of `newsarchive crawl` over the local mirror holding the
fixture pages plus N generated articles, archived into (a) the local folder and (b) a
`weed mini` S3 server, with the ratio to scrapy bench and each crawl's peak RSS.
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

from crawler.fixtures import iter_fixtures  # noqa: E402
from crawler.mirror import MirrorServer  # noqa: E402
from crawler.mirror_catalog import Catalog  # noqa: E402
from tests.s3server import WeedMini  # noqa: E402

RSS_WRAPPER = (
    "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, "
    "text=True); sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); "
    "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def measured(args: list[str], env: dict[str, str]) -> tuple[str, str, float, int]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", RSS_WRAPPER, *args], cwd=ROOT, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    rss = int(re.findall(r"PEAK_RSS_KB (\d+)", result.stdout)[-1])
    return result.stdout, result.stderr, elapsed, rss


def scrapy_bench(seconds: int) -> tuple[float, int]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": ""}
    _, err, _, rss = measured(
        [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"], env
    )
    rates = [int(x) for x in re.findall(r"at (\d+) pages/min", err)]
    return max(rates), rss


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
[sites.futu]
base_url = "{mirror.base_url("https://news.futunn.com")}"
headline_size = 100000
flash_page_size = 100
max_pages = 100000
[sites.tencent]
base_url = "{mirror.base_url("https://news.qq.com")}"
api_base_url = "{mirror.base_url("https://i.news.qq.com")}"
hot_base_url = "{mirror.base_url("https://r.inews.qq.com")}"
item_count = 50
max_pages = 100000
"""


def our_crawl(workdir: Path, config: str, env: dict[str, str]) -> tuple[float, int, int]:
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
    print(f"{label:34} {bench_rate:8.0f} pages/min  peak RSS {bench_rss / 1024:6.0f} MiB")

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
            f"newsarchive crawl -> {name:14} {rate:8.0f} pages/min  peak RSS {rss / 1024:6.0f} MiB"
            f"  ratio to scrapy bench {rate / bench_rate:5.2f}  ({archived} articles archived)"
        )
    print("target: ratio >= 0.60")
    return 0


if __name__ == "__main__":
    sys.exit(main())
