"""Which S3 upload path uses 2 cores best: articles/s archived into one `weed mini`, one run.

    python bench/upload_paths.py [--articles 1200]

The same articles (cloned from the fixtures, distinct ids) go through `archive_article`
(create-only puts: text, record, index marker; the raw page in a WARC file, as in a crawl)
along each path:

- botocore: one process, 8 threads, the PUTs through boto3's `put_object` (the path before
  obstore);
- botocore, a second process: two such processes, as the crawl's upload helper processes
  did;
- today: one process, `archive.upload_concurrency` threads (8), the PUTs through obstore;
- obstore, a second process: two such processes.

Each path runs in fresh child processes (its CPU counted by this process from their rusage),
into its own bucket. Printed: articles/s, the ratio to the first path, and the CPU the
uploading processes and weed used per article.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.items import ArticleItem, FetchedPage  # noqa: E402
from crawler.mirror.fixtures import iter_fixtures  # noqa: E402
from crawler.parsers import parse  # noqa: E402
from pipelines.records.writer import archive_article  # noqa: E402
from pipelines.store.s3 import S3Store  # noqa: E402
from tests.support.s3server import WeedMini  # noqa: E402

CAPTURED = {
    "key": "warc/bench.warc.gz",
    "offset": 0,
    "length": 1,
    "record_type": "response",
    "record_id": "<urn:uuid:00000000-0000-4000-8000-000000000000>",
}


def make_items(first: int, count: int) -> list[ArticleItem]:
    """Articles `first` .. `first + count - 1`, cloned from the fixture articles."""
    bases = []
    for fixture in iter_fixtures():
        if fixture.expected().get("outcome") == "article":
            article = parse(fixture.url, fixture.body, fixture.headers)
            page = FetchedPage(
                article.site,
                article.id,
                article.url,
                fixture.url,
                fixture.url,
                200,
                fixture.headers,
                fixture.body,
                article.published,
                capture=CAPTURED,
            )
            bases.append(ArticleItem(page, article, unindexed=True))
    items = []
    for n in range(first, first + count):
        base = bases[n % len(bases)]
        article = replace(base.article, id=f"{base.article.id}-up{n}")
        items.append(replace(base, article=article, page=replace(base.page, page_id=article.id)))
    return items


def worker(args: argparse.Namespace) -> int:
    """One uploading process: its share of the articles, `threads` at once, one store."""
    import boto3
    from botocore.config import Config as BotoConfig

    items = make_items(args.first, args.count)
    client = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        config=BotoConfig(
            max_pool_connections=args.pool,
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
    store = S3Store(f"s3://{args.bucket}/news", client, args.endpoint)
    if args.botocore:
        store._puts = BotocorePuts(client, args.bucket)  # type: ignore[assignment]
    with ThreadPoolExecutor(args.threads) as pool:
        statuses = list(pool.map(lambda item: archive_article(store, item).status, items))
    assert statuses.count("archived") == len(items), statuses[:5]
    return 0


class BotocorePuts:
    """The conditional PUT as boto3 makes it (the path before obstore), for comparison."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    def put_if_absent(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> bool:
        from botocore.exceptions import ClientError

        extra = {"ContentEncoding": content_encoding} if content_encoding else {}
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=f"news/{key}",
                Body=data,
                IfNoneMatch="*",
                ContentType=content_type,
                Metadata=dict(metadata or {}),
                **extra,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"PreconditionFailed", "412"}:
                return False
            raise
        return True


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_path(
    weed: WeedMini, bucket: str, count: int, processes: int, threads: int, pool: int, botocore: bool
) -> dict[str, float]:
    weed.client().create_bucket(Bucket=bucket)
    env = {**os.environ, **weed.env()}
    share = count // processes
    assert weed.process is not None
    cpu, weed_cpu = children_cpu(), process_cpu(weed.process.pid)
    start = time.perf_counter()
    children = []
    for n in range(processes):
        args = [
            sys.executable,
            __file__,
            "--worker",
            "--endpoint",
            weed.endpoint,
            "--bucket",
            bucket,
            "--first",
            str(n * share),
            "--count",
            str(share),
            "--threads",
            str(threads),
            "--pool",
            str(pool),
        ]
        children.append(subprocess.Popen(args + (["--botocore"] if botocore else []), env=env))
    for child in children:
        if child.wait(timeout=900) != 0:
            raise SystemExit(f"an uploading process failed ({bucket})")
    elapsed = time.perf_counter() - start
    done = share * processes
    return {
        "rate": done / elapsed,
        "cpu": (children_cpu() - cpu) / done * 1000,
        "weed": (process_cpu(weed.process.pid) - weed_cpu) / done * 1000,
    }


def main() -> int:
    options = argparse.ArgumentParser()
    options.add_argument("--articles", type=int, default=1200)
    options.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    options.add_argument("--botocore", action="store_true", help=argparse.SUPPRESS)
    for name in ("--endpoint", "--bucket"):
        options.add_argument(name, help=argparse.SUPPRESS)
    for name in ("--first", "--count", "--threads", "--pool"):
        options.add_argument(name, type=int, default=0, help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.worker:
        return worker(args)
    paths = {
        "botocore: 1 process x 8 threads": (1, True),
        "botocore, a second process: 2 x 8 threads": (2, True),
        "today, obstore: 1 process x 8 threads": (1, False),
        "obstore, a second process: 2 x 8 threads": (2, False),
    }
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        weed = WeedMini(Path(workdir) / "weed").start()
        try:
            for n, (name, (processes, botocore)) in enumerate(paths.items()):
                results[name] = run_path(
                    weed, f"upload-{n}", args.articles, processes, 8, 16, botocore
                )
        finally:
            weed.stop()
    today = next(iter(results.values()))["rate"]
    print(f"articles: {args.articles}, 3 create-only PUTs each, weed mini on 127.0.0.1, 2 cores")
    for name, figures in results.items():
        print(
            f"{name:46} {figures['rate']:7.1f}/s  x{figures['rate'] / today:4.2f}  CPU per "
            f"1,000 articles: uploaders {figures['cpu']:5.1f} s, weed {figures['weed']:5.1f} s"
        )
    print(json.dumps({k: round(v["rate"], 1) for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
