"""Filling the past, measured: pages per minute of `crawl --from wayback` from a local pywb
into weed mini, next to a crawl of the same pages from the site mirror into weed mini, one run.

    python bench/history.py [--articles 2000]

The mirror holds the Futu fixture pages plus N generated articles; a WARC file holds a capture
of each at its real URL, served by a real pywb (installed into a temporary virtualenv from
requirements-pywb.txt, or taken from $PYWB_BIN). Both crawls run with no delay, so the figures
are this machine's ceiling; the README turns the default polite rates into hours per year.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.mirror.catalog import Catalog  # noqa: E402
from crawler.mirror.fixtures import iter_fixtures  # noqa: E402
from crawler.mirror.server import MirrorServer, mirror_path  # noqa: E402
from crawler.parsers import identify  # noqa: E402
from tests.support.configs import sites_toml  # noqa: E402
from tests.support.pywb import collection, install_pywb, wayback, write_captures  # noqa: E402
from tests.support.s3server import WeedMini  # noqa: E402

CAPTURED = datetime(2024, 3, 5, tzinfo=UTC)


def config(workdir: Path, mirror: MirrorServer, weed: WeedMini, bucket: str, base: str) -> Path:
    path = workdir / f"{bucket}.toml"
    path.write_text(
        f"""
[archive]
location = "s3://{bucket}/news"
addressing_style = "path"
endpoint_url = "{weed.endpoint}"
spool_dir = "{workdir / bucket / "spool"}"
[crawl]
lock_dir = "{workdir / bucket / "locks"}"
download_delay = 0
autothrottle = false
concurrent_requests_per_domain = 16
log_level = "WARNING"
[history]
wayback_cdx = "{base}/web/cdx"
wayback_replay = "{base}/web"
wayback_rate = 1000
{sites_toml(mirror)}""",
        encoding="utf-8",
    )
    return path


def crawl(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Pages per minute and articles archived of one `newsarchive` run."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    elapsed = time.perf_counter() - start
    fetched = sum(int(x) for x in re.findall(r"fetched (\d+)", result.stdout))
    archived = sum(int(x) for x in re.findall(r", archived (\d+)", result.stdout))
    if not archived:
        raise SystemExit(f"archived nothing:\n{result.stdout}\n{result.stderr[-2000:]}")
    return fetched / elapsed * 60, archived


def main() -> int:
    options = argparse.ArgumentParser()
    options.add_argument("--articles", type=int, default=2000)
    opts = options.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSARCHIVE_", "AWS_"))}
    catalog = Catalog(iter_fixtures(site="futu"), extra_articles=opts.articles)
    routes = catalog.routes()
    pages = []
    for item in catalog.items:
        url = identify(catalog.url(item)).url
        route = routes.get(mirror_path(url))
        if item.is_article and route is not None and route.status == 200:
            pages.append((url, route))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pywb = Path(os.environ["PYWB_BIN"]) if "PYWB_BIN" in os.environ else None
        pywb = pywb or install_pywb(workdir / "pywb")
        captures = [
            (url, CAPTURED + timedelta(seconds=i), 200, route.headers, route.body)
            for i, (url, route) in enumerate(pages)
        ]
        collection(pywb, workdir, "web", write_captures(workdir / "captures.warc.gz", captures))
        urls = workdir / "urls.txt"
        urls.write_text("\n".join(url for url, _ in pages) + "\n", encoding="utf-8")
        weed = WeedMini(workdir / "weed").start()
        try:
            with (
                MirrorServer(routes, handlers=catalog.handlers()) as mirror,
                wayback(pywb, workdir) as base,
            ):
                runs = {}
                for bucket, args in (
                    ("mirror", ["crawl", "--urls-file", str(urls)]),
                    (
                        "history",
                        [
                            "crawl",
                            "--from",
                            "wayback",
                            "--site",
                            "futu",
                            "--since",
                            "2024-03-01",
                            "--until",
                            "2024-03-31",
                        ],
                    ),
                ):
                    weed.client().create_bucket(Bucket=bucket)
                    path = config(workdir, mirror, weed, bucket, base)
                    runs[bucket] = crawl(["--config", str(path), *args], {**env, **weed.env()})
        finally:
            weed.stop()
    (mirror_rate, mirror_n), (history_rate, history_n) = runs["mirror"], runs["history"]
    print(f"{len(pages)} Futu pages, into weed mini, on this machine, no delays:")
    for label, rate, count in (
        ("crawl from the site mirror", mirror_rate, mirror_n),
        ("crawl --from wayback (local pywb)", history_rate, history_n),
    ):
        print(f"  {label:34} {rate:8.0f} pages/min  ({count} archived)")
    print(f"  ratio wayback / mirror: {history_rate / mirror_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
