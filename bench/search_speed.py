"""Full-text search at archive scale: index N generated articles, then time mixed queries.

    python bench/search_speed.py [--articles 100000] [--queries 200]

Articles are generated from the paragraphs of the sample pages (Chinese and English), each a
different mix and order of paragraphs under its own id and date, so queries hit a realistic
spread of documents. Prints indexing articles/s and the index size, then query latency p50
and p95 over mixed Chinese/English queries (two-character words, longer phrases, English
words and phrases, some with site/ticker/date filters). Target: p95 under 50 ms at 100,000.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.items import BEIJING  # noqa: E402
from crawler.mirror.fixtures import iter_fixtures  # noqa: E402
from pipelines.read.search import SearchIndex  # noqa: E402
from pipelines.records.day_index import IndexEntry  # noqa: E402

BATCH = 2000
QUERIES = [
    "芯片",
    "阿里",
    "阿里巴巴",
    "消费",
    "市场",
    "银行",
    "数据",
    "苹果",
    "增长",
    "消费金融",
    "核心CPI",
    "AI芯片",
    "国家统计局",
    "人工智能",
    "Tmall",
    "chips",
    "inventory",
    "rating",
    '"pre-sale mechanism"',
    '"target price"',
    "Alibaba direction",
    "consumers experience",
]
FILTERS = [{}, {}, {"site": "futu"}, {"ticker": "BABA.US"}, {"since": date(2026, 6, 1)}]


def corpus() -> tuple[list[str], list[str]]:
    """Paragraphs of the sample articles, Chinese and English apart."""
    zh: list[str] = []
    en: list[str] = []
    for fixture in iter_fixtures():
        article = fixture.expected().get("article")
        if not article:
            continue
        (zh if str(article["language"]).startswith("zh") else en).extend(article["paragraphs"])
    return zh, en


def documents(count: int, rng: random.Random) -> list[tuple[IndexEntry, str]]:
    zh, en = corpus()
    tickers = ["BABA.US", "NVDA.US", "00700.HK", "AAPL.US", "600036.SH"]
    start = datetime(2026, 1, 1, tzinfo=BEIJING)
    out = []
    for n in range(count):
        chinese = n % 3 != 0
        pool = zh if chinese else en
        paragraphs = rng.sample(pool, k=min(len(pool), rng.randint(3, 8)))
        entry = IndexEntry(
            site="futu" if n % 2 else "tencent",
            id=f"gen-{n}",
            version=1,
            published=start + timedelta(minutes=5 * n),
            title=paragraphs[0][:40],
            language="zh-CN" if chinese else "en",
            url=f"https://example/{n}",
            outlet=None,
            tickers=tuple(rng.sample(tickers, k=rng.randint(0, 2))),
            parser="bench",
            parser_version="0",
            content_sha256="",
            record_key=f"articles/gen-{n}.json",
            text_key=f"text/gen-{n}.txt",
            raw_key=None,
        )
        out.append((entry, "\n\n".join(paragraphs)))
    return out


def main() -> int:
    options = argparse.ArgumentParser()
    options.add_argument("--articles", type=int, default=100_000)
    options.add_argument("--queries", type=int, default=200)
    opts = options.parse_args()
    rng = random.Random(20261126)
    docs = documents(opts.articles, rng)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "search.sqlite"
        with SearchIndex(path) as index:
            began = time.perf_counter()
            for first in range(0, len(docs), BATCH):
                index.add(docs[first : first + BATCH])
            index.optimize()  # as `newsarchive index` does after a large refresh
            elapsed = time.perf_counter() - began
            size = sum(p.stat().st_size for p in Path(tmp).iterdir())
            print(
                f"indexed {len(docs)} articles in {elapsed:.1f} s: {len(docs) / elapsed:,.0f} "
                f"articles/s; index {size / 2**20:,.0f} MiB"
            )
            timings, hits = [], 0
            for n in range(opts.queries):
                query = QUERIES[n % len(QUERIES)]
                filters = FILTERS[n % len(FILTERS)]
                began = time.perf_counter()
                hits += len(index.search(query, limit=20, **filters))  # type: ignore[arg-type]
                timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{len(timings)} queries ({hits} hits): p50 {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms  (target: p95 < 50 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
