"""Articles/s archived to a real `weed mini` by our archiver vs a plain boto3 put_object loop.

    python bench/archive_throughput.py [--articles 400]

Both sides write the same three objects per article (record JSON, text, gzipped raw page)
to the same server in the same run. Ours goes through `archive_article` (existence check,
create-only conditional puts, record last) with the pipeline's thread concurrency
(`archive.upload_concurrency`, default 8); the baseline is one unconditional put_object per
object, sequentially, with no checks at all.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.items import ArticleItem, FetchedPage
from crawler.mirror.fixtures import iter_fixtures
from crawler.parsers import parse
from pipelines.records.layout import article_keys
from pipelines.records.writer import archive_article, build_record, content_sha256
from pipelines.store import StoreOptions
from pipelines.store.s3 import S3Store
from tests.support.s3server import WeedMini


def make_items(count: int) -> list[ArticleItem]:
    """`count` distinct articles cloned from the fixture articles (distinct ids)."""
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
            )
            bases.append(ArticleItem(page, article))
    items = []
    for n in range(count):
        base = bases[n % len(bases)]
        article = replace(base.article, id=f"{base.article.id}-bench{n}")
        items.append(replace(base, article=article))
    return items


def main() -> int:
    options = argparse.ArgumentParser()
    options.add_argument("--articles", type=int, default=400)
    count = options.parse_args().articles
    concurrency = StoreOptions().upload_concurrency  # the crawl's default
    items = make_items(count)
    with tempfile.TemporaryDirectory() as workdir:
        weed = WeedMini(Path(workdir)).start()
        try:
            client = weed.client()
            for bucket in ("bench-ours", "bench-plain"):
                client.create_bucket(Bucket=bucket)

            store = S3Store("s3://bench-ours/news", weed.client(), weed.endpoint)
            start = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                statuses = list(pool.map(lambda item: archive_article(store, item).status, items))
            ours = count / (time.perf_counter() - start)
            assert statuses.count("archived") == count, statuses

            start = time.perf_counter()
            for item in items:
                keys = article_keys(item.article.site, item.article.id, item.article.published)
                record = build_record(item, content_sha256(item.article.text), 1, keys)
                payloads = {
                    keys.text: item.article.text.encode(),
                    keys.raw: gzip.compress(item.page.body, mtime=0),
                    keys.record: repr(record).encode(),
                }
                for key, body in payloads.items():
                    client.put_object(Bucket="bench-plain", Key=f"news/{key}", Body=body)
            plain = count / (time.perf_counter() - start)
        finally:
            weed.stop()
    print(f"articles: {count} (3 objects each), weed mini on 127.0.0.1, 2 cores shared")
    print(f"newsarchive archiver, {concurrency} threads, checks + conditional puts: {ours:7.1f}/s")
    print(f"plain boto3 put_object loop, sequential, no checks:              {plain:7.1f}/s")
    print(f"ratio ours / plain: {ours / plain:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
