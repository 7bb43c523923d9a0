"""The archive on a real S3-compatible server (SeaweedFS weed mini started by the tests)."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.mirror.fixtures import FIXTURES_DIR, iter_fixtures, load_fixture
from crawler.mirror.server import MirrorServer, fixture_routes
from pipelines.records.writer import archive_article
from pipelines.store import StoreError, StoreOptions
from pipelines.store.s3 import S3Store
from tests.support.commands import newsarchive, start_newsarchive
from tests.support.items import item_for
from tests.support.s3server import SECRET_KEY, WeedMini, bucket_keys

ARTICLES = [f for f in iter_fixtures() if f.read_by_layout]
FUTU_EN = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")


def s3_config(tmp_path: Path, mirror: MirrorServer, bucket: str, attempts: int = 5) -> Path:
    path = tmp_path / "s3.toml"
    path.write_text(
        f"""
[archive]
location = "s3://{bucket}/news"
addressing_style = "path"
spool_dir = "{tmp_path / "spool"}"
retry_attempts = {attempts}
[crawl]
download_delay = 0
concurrent_requests_per_domain = 1
lock_dir = "{tmp_path / "locks"}"
[sites.futu]
base_url = "{mirror.base_url("https://news.futunn.com")}"
[sites.tencent]
base_url = "{mirror.base_url("https://news.qq.com")}"
""",
        encoding="utf-8",
    )
    return path


def store_for(weed: WeedMini, bucket: str, secret: str = SECRET_KEY) -> S3Store:
    return S3Store(f"s3://{bucket}/news", weed.client(secret), weed.endpoint)


def test_crawl_into_bucket_reads_back_byte_identical_and_recrawl_writes_nothing(
    tmp_path: Path, mirror: MirrorServer, weed: WeedMini, bucket: str
) -> None:
    config = s3_config(tmp_path, mirror, bucket)
    args = ["--config", str(config), "crawl", *[x for f in ARTICLES for x in ("--url", f.url)]]
    first = newsarchive(*args, env=weed.env())
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    keys = bucket_keys(weed, bucket)
    records = [k for k in keys if k.startswith("news/articles/")]
    assert len(records) == len(ARTICLES) == 23

    client = weed.client()
    for fixture in ARTICLES:
        expected = fixture.expected()["article"]
        (record_key,) = [k for k in records if k.endswith(f"/{expected['id']}.json")]
        record_obj = client.get_object(Bucket=bucket, Key=record_key)
        assert record_obj["ContentType"] == "application/json"
        record = json.loads(record_obj["Body"].read())
        assert record["text"] == expected["text"] and record["version"] == 1
        assert record_obj["Metadata"]["content-sha256"] == record["content_sha256"]
        text = client.get_object(Bucket=bucket, Key="news/" + record["text_key"])
        assert text["ContentType"] == "text/plain; charset=utf-8"
        assert text["Body"].read().decode("utf-8") == expected["text"]  # the hashed bytes
        capture = record["warc"]  # one ranged read of the run's WARC file
        start, length = capture["offset"], capture["length"]
        ranged = client.get_object(
            Bucket=bucket, Key="news/" + capture["key"], Range=f"bytes={start}-{start + length - 1}"
        )
        response = next(iter(ArchiveIterator(io.BytesIO(ranged["Body"].read()))))
        assert response.rec_headers.get_header("WARC-Record-ID") == capture["record_id"]
        assert response.content_stream().read() == fixture.body
    warcs = [k for k in keys if k.endswith(".warc.gz")]
    assert len(warcs) == 2  # one per site for this run, each with its CDXJ index beside it
    for key in warcs:
        head = client.head_object(Bucket=bucket, Key=key)
        assert head["ContentType"] == "application/warc"
        assert key.removesuffix(".warc.gz") + ".cdxj" in keys

    before = {
        o["Key"]: o["LastModified"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]
    }
    second = newsarchive(*args, env=weed.env())
    assert second.returncode == 0, second.stderr[-3000:]
    assert "archived 0" in second.stdout
    after = {o["Key"]: o["LastModified"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    new = set(after) - set(before)
    # the second run's report, its fetch-outcome logs and its captures (revisit records, see
    # test_crawl); no article object written again
    assert sum(k.startswith("news/runs/") for k in new) == 1
    bookkeeping = ("news/runs/", "news/state/futu/log/", "news/state/tencent/log/", "news/warc/")
    assert all(k.startswith(bookkeeping) for k in new) and len(new) == 7
    assert {k: v for k, v in after.items() if k not in new} == before
    for output in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert SECRET_KEY not in output


@pytest.mark.parametrize(
    ("unindexed", "one_store"),
    [(False, False), (True, False), (True, True)],
    ids=["manual-url", "listed-unindexed", "listed-one-store-from-the-settings"],
)
def test_eight_way_race_on_one_article_yields_one_object(
    weed: WeedMini, bucket: str, unindexed: bool, one_store: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also when every racer was told the id is new and skips reading for a record, and when
    the racers are the archiver threads of one crawl: one store opened from the settings, its
    credentials from the environment, its PUTs through one obstore client."""
    item = replace(item_for(FUTU_EN.path), unindexed=unindexed)
    results: list[str] = []
    barrier = threading.Barrier(8)
    shared = None
    if one_store:
        for name, value in weed.env().items():  # what a crawl's session reads
            monkeypatch.setenv(name, value)
        options = StoreOptions(
            location=f"s3://{bucket}/news", endpoint_url=weed.endpoint, addressing_style="path"
        )
        shared = S3Store.from_options(options)

    def racer() -> None:
        store = shared or store_for(weed, bucket)
        barrier.wait()
        results.append(archive_article(store, item).status)

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["archived"] + ["unchanged"] * 7
    keys = bucket_keys(weed, bucket)
    assert [k for k in keys if k.startswith("news/articles/")] == [
        "news/articles/futu/2024/05/08/41283375-en.json"
    ]


@pytest.mark.parametrize("unindexed", [False, True], ids=["manual-url", "listed-unindexed"])
def test_changed_article_gets_a_second_version_next_to_the_first(
    weed: WeedMini, bucket: str, unindexed: bool
) -> None:
    store = store_for(weed, bucket)
    item = replace(item_for(FUTU_EN.path), unindexed=unindexed)
    assert archive_article(store, item).status == "archived"
    edited = replace(item.article, paragraphs=(*item.article.paragraphs, "Update: a new line."))
    result = archive_article(store, replace(item, article=edited))
    assert (result.status, result.version) == ("new_version", 2)
    assert archive_article(store, replace(item, article=edited)).status == "unchanged"
    stem = "news/articles/futu/2024/05/08/41283375-en"
    assert {f"{stem}.json", f"{stem}.v2.json"} <= set(bucket_keys(weed, bucket))
    first = json.loads(store.get("articles/futu/2024/05/08/41283375-en.json") or b"{}")
    second = json.loads(store.get("articles/futu/2024/05/08/41283375-en.v2.json") or b"{}")
    assert first["text"] == item.article.text  # the old version is never overwritten
    assert second["text"].endswith("Update: a new line.") and second["version"] == 2
    assert second["previous_key"] == "articles/futu/2024/05/08/41283375-en.json"
    assert first["previous_key"] is None


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("wrong-secret", "refused: wrong or unauthorised credentials"),
        ("missing-bucket", "does not exist"),
    ],
)
def test_misconfigured_target_fails_before_crawling(
    tmp_path: Path, mirror: MirrorServer, weed: WeedMini, bucket: str, setup: str, message: str
) -> None:
    env = weed.env("not-the-secret-Xy7" if setup == "wrong-secret" else SECRET_KEY)
    # (An endpoint that does not answer is an outage, not a mistake: the run spools, see
    # tests/test_storage_faults.py.)
    target = "no-such-bucket" if setup == "missing-bucket" else bucket
    config = s3_config(tmp_path, mirror, target, attempts=1)
    requests_before = len(mirror.requests)
    result = newsarchive("--config", str(config), "crawl", "--url", FUTU_EN.url, env=env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert message in line and target in line
    assert len(mirror.requests) == requests_before  # nothing was fetched
    assert SECRET_KEY not in result.stderr + result.stdout
    assert "not-the-secret-Xy7" not in result.stderr + result.stdout


def test_store_errors_never_carry_credentials(
    weed: WeedMini, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_for(weed, bucket, secret="leaky-secret-123")
    with pytest.raises(StoreError) as caught:
        store.put_if_absent("a/b.txt", b"x", "text/plain")
    assert "leaky-secret-123" not in str(caught.value)
    assert "archiver-key" not in str(caught.value)
    # the same refusal, credentials from the environment as a crawl takes them: same error
    for name, value in weed.env(secret="leaky-secret-123").items():
        monkeypatch.setenv(name, value)
    options = StoreOptions(
        location=f"s3://{bucket}/news",
        endpoint_url=weed.endpoint,
        addressing_style="path",
        retry_attempts=1,
    )
    with pytest.raises(StoreError) as from_settings:
        S3Store.from_options(options).put_if_absent("a/b.txt", b"x", "text/plain")
    assert str(from_settings.value) == str(caught.value)


def test_server_down_mid_crawl_spools_then_flush_uploads_everything(
    tmp_path: Path, weed: WeedMini, tmp_path_factory: pytest.TempPathFactory
) -> None:
    own = WeedMini(tmp_path_factory.mktemp("weed-outage")).start()
    try:
        own.client().create_bucket(Bucket="outage")
        with MirrorServer(fixture_routes(ARTICLES), delay=0.4) as slow:
            config = s3_config(tmp_path, slow, "outage", attempts=2)
            urls = [x for f in ARTICLES for x in ("--url", f.url)]
            log = tmp_path / "crawl.log"
            crawl = start_newsarchive(
                "--config", str(config), "crawl", *urls, "--log-file", str(log), env=own.env()
            )
            deadline = time.monotonic() + 60
            while not [k for k in bucket_keys(own, "outage") if k.startswith("news/articles/")]:
                assert time.monotonic() < deadline, "nothing archived before the outage"
                time.sleep(0.1)
            own.stop()  # storage goes away while the crawl is running
            out, err = crawl.communicate(timeout=240)
        assert crawl.returncode == 1, out + err
        pending = int(out.split("pending uploads ")[1].split()[0])
        spooled = list((tmp_path / "spool").glob("*.json"))
        reports = [p for p in spooled if p.name.startswith("object-runs_")]  # the run's own
        items = len(spooled) - len(reports)
        files = len(list((tmp_path / "spool" / "warc" / "ready").glob("*.warc.gz")))
        assert len(reports) == 1 and items > 0 and files == 2 and pending == items + files
        pending = items + 1  # the spooled run report is stored by the flush too

        own.start()  # same ports, same data directory
        flushed = newsarchive("--config", str(config), "flush", env=own.env())
        assert flushed.returncode == 0, flushed.stdout + flushed.stderr
        assert f"uploaded {pending}, still pending 0" in flushed.stdout
        assert "WARC files stored 2, still pending 0" in flushed.stdout
        audit = newsarchive("--config", str(config), "verify", env=own.env())
        assert audit.returncode == 0, audit.stdout + audit.stderr  # every capture readable
        records = [k for k in bucket_keys(own, "outage") if k.startswith("news/articles/")]
        assert len(records) == len(ARTICLES)
        # the per-day index lines journaled during the outage were published too
        listed = newsarchive("--config", str(config), "ls", "--json", env=own.env())
        assert len(listed.stdout.splitlines()) == len(ARTICLES), listed.stderr
        everything = out + err + flushed.stdout + flushed.stderr + log.read_text()
        everything += "".join(p.read_text() for p in (tmp_path / "spool").rglob("*") if p.is_file())
        assert SECRET_KEY not in everything
    finally:
        own.stop()
