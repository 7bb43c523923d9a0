"""The spool keeps whole items on disk and replays them through the create-only archiver."""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
from pathlib import Path

from crawler.items import Article, ArticleItem, FetchedPage, RejectedItem
from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.parsers import parse
from pipelines.spool import CLAIM_PREFIX, Spool
from pipelines.store import LocalStore


def _page(name: str) -> tuple[FetchedPage, Article]:
    fixture = load_fixture(FIXTURES_DIR / name)
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
    return page, article


def test_spooled_items_flush_into_the_archive_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    page, article = _page("tencent/gb2312-2016")
    spool.add(ArticleItem(page, article))
    rejected_page, _ = _page("futu/zh-cn-post")
    spool.add(RejectedItem(rejected_page, "parse_error", "cannot extract 'body'", field="body"))
    assert len(spool.pending()) == 2

    store = LocalStore(tmp_path / "archive")
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(spool.flush(store))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert spool.pending() == []
    assert sum(r.pending for r in results) == 0
    keys = list(store.list(""))
    assert len([k for k in keys if k.startswith("articles/")]) == 1
    raw = store.get("raw/tencent/2016/09/07/news-20160907003042.html.gz")
    assert raw is not None and gzip.decompress(raw) == page.body
    assert len([k for k in keys if k.startswith("rejected/")]) == 2


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_files_a_live_flush_holds_are_not_pending_and_a_dead_flushs_are(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for n in range(3):
        spool.add_object(f"runs/2026/12/07/report-{n}.json", b'{"n": %d}' % n, "application/json")
    first, second, third = sorted((tmp_path / "spool").glob("object-*.json"))
    other_flush = subprocess.Popen(["sleep", "60"])
    try:
        held = first.with_name(f"{CLAIM_PREFIX}{other_flush.pid}-{first.name}")
        first.rename(held)
        orphan = second.with_name(f"{CLAIM_PREFIX}{dead_pid()}-{second.name}")
        second.rename(orphan)
        assert spool.pending() == [orphan, third]  # in their own names' order
        assert spool.uploads_pending() == 2
        store = LocalStore(tmp_path / "archive")
        result = spool.flush(store)
        assert (result.uploaded, result.pending) == (2, 0)
        assert store.get("runs/2026/12/07/report-1.json") == b'{"n": 1}'
        assert store.get("runs/2026/12/07/report-0.json") is None and held.exists()
    finally:
        other_flush.kill()
        other_flush.wait()
    assert spool.pending() == [held]  # its flush is gone: pending again
    assert spool.flush(store).uploaded == 1
    assert store.get("runs/2026/12/07/report-0.json") == b'{"n": 0}'
    assert spool.pending() == [] and not held.exists()


def test_a_flush_that_meets_an_outage_puts_back_what_it_claimed(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for n in range(2):
        spool.add_object(f"runs/x/{n}.json", b"{}", "application/json")
    blocker = tmp_path / "archive"
    blocker.write_text("a file where the archive folder should be")
    result = spool.flush(LocalStore(blocker))
    assert (result.uploaded, result.pending) == (0, 2)
    names = sorted(p.name for p in (tmp_path / "spool").iterdir())
    assert len(names) == 2 and all(n.startswith("object-") for n in names), names
    assert spool.uploads_pending() == 2
