"""The spool keeps whole items on disk and replays them through the create-only archiver."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

from crawler.items import Article, ArticleItem, FetchedPage, RejectedItem
from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.parsers import parse
from pipelines.spool import Spool
from pipelines.store import LocalStore


def _page(name: str) -> tuple[FetchedPage, Article]:
    fixture = load_fixture(FIXTURES_DIR / name)
    article = parse(fixture.url, fixture.body, fixture.headers)
    page = FetchedPage(article.site, article.id, article.url, fixture.url, fixture.url, 200,
                       fixture.headers, fixture.body, article.published)  # fmt: skip
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
