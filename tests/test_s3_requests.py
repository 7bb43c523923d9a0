"""What a crawl costs in S3 requests, counted by the S3 server itself (weed mini's Prometheus
counters): a new article is 3 create-only PUTs (text, record, index marker) and no lookup; an
article listed again costs one HEAD, as it always did; the rest is per run, not per article."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer
from tests.support.commands import newsarchive
from tests.support.configs import discovery_config, summary_line
from tests.support.s3server import WeedMini, bucket_keys

ARTICLE_OBJECTS = ("news/articles/", "news/text/", "news/index/")


@pytest.fixture(scope="module")
def counting_weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedMini]:
    server = WeedMini(tmp_path_factory.mktemp("weed-metrics"), metrics=True).start()
    yield server
    server.stop()


def crawl_into(tmp_path: Path, weed: WeedMini, bucket: str, mirror: MirrorServer) -> dict[str, int]:
    """One discovery crawl of every site into the bucket: its summary counts, summed."""
    config = discovery_config(tmp_path, mirror)
    text = config.read_text(encoding="utf-8").replace(
        f'location = "{tmp_path / "archive"}"',
        f'location = "s3://{bucket}/news"\naddressing_style = "path"',
    )
    config.write_text(text, encoding="utf-8")
    result = newsarchive("--config", str(config), "crawl", "--since", "2000-01-01", env=weed.env())
    counts: dict[str, int] = {}
    for site in ("futu", "tencent"):
        for name, value in summary_line(result.stdout, site).items():
            counts[name] = counts.get(name, 0) + value
    return counts


def test_a_new_article_costs_three_puts_and_a_listed_again_one_head(
    tmp_path: Path, counting_weed: WeedMini
) -> None:
    weed, bucket = counting_weed, "requests-per-article"
    weed.client().create_bucket(Bucket=bucket)
    small = Catalog(iter_fixtures(), extra_articles=40)
    with MirrorServer(small.routes(), handlers=small.handlers()) as mirror:
        first = crawl_into(tmp_path, weed, bucket, mirror)
        after_first = weed.s3_requests_by_type(bucket)
        keys = bucket_keys(weed, bucket)  # after the count: its LIST is not the crawl's
        bigger = Catalog(iter_fixtures(), extra_articles=50)
        mirror.routes.update(bigger.routes())
        mirror.handlers.update(bigger.handlers())
        second = crawl_into(tmp_path, weed, bucket, mirror)
        after_second = weed.s3_requests_by_type(bucket)
    # weed counts a HEAD as a GET: "GET 404" is a lookup of an id the archive does not hold
    # Not one per id (50+) as it once was: the few a run makes, and the catalog's first
    # lookups of a table that is not there yet (its log, its checkpoint)
    assert first["archived"] >= 50 and after_first.get("GET 404", 0) <= 12
    article_objects = [k for k in keys if k.startswith(ARTICLE_OBJECTS)]
    assert len(article_objects) == 3 * first["archived"]  # text, record, index marker
    # about one PUT per object: the rest are per run (WARC files and their indexes, the
    # outcome log and day index segments, the run report), not per article
    assert len(keys) <= after_first["PUT 200"] <= len(keys) + 2
    # no article object written twice; a 412 can only be the catalog's log, where the two
    # sites' crawlers committing at once race for one table version (the loser retries)
    assert after_first.get("PUT 412", 0) <= 2
    bookkeeping = len(keys) - len(article_objects)
    assert bookkeeping < first["archived"]

    second_run = {k: v - after_first.get(k, 0) for k, v in after_second.items()}
    assert second["archived"] == 10 and second["already_archived"] >= 60
    # the new ones: no lookup; what 404s is the catalog's checkpoint, looked for once per
    # commit until the table has one (every 20 commits)
    assert second_run.get("GET 404", 0) <= 2
    # an article listed again: one HEAD, as before, plus a few reads per run: each site's
    # commit loads the catalog table (its log since the last checkpoint, at most 20 files)
    assert second["already_archived"] <= second_run["GET 200"] <= second["already_archived"] + 60
