"""Replay with the tool archivists use: a real pywb over the archive's WARC files and over a
WACZ export, as the README's recipe builds it.

An article revisited unchanged (the site answers 304 to the conditional request) is stored as
a server-not-modified revisit record pointing at its first capture; its newest capture must
replay as the page (HTTP 200, its text), not as an empty 304.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer, fixture_routes
from tests.support.commands import newsarchive
from tests.support.pywb import manager, session_pywb, wayback
from tests.test_revisits import TENCENT, revisit_config, run


@pytest.fixture
def site() -> Iterator[MirrorServer]:
    """A mirror of its own, whose pages answer 304 to a conditional request."""
    with MirrorServer(fixture_routes(iter_fixtures())) as server:
        yield server


@pytest.fixture(scope="session")
def pywb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a virtualenv with pywb (its own: see requirements-pywb.txt)."""
    return session_pywb(tmp_path_factory)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_a_page_revisited_unchanged_replays_in_pywb_from_the_warcs_and_from_a_wacz(
    tmp_path: Path,
    site: MirrorServer,
    pywb: Path,
) -> None:
    config = revisit_config(tmp_path, site, '["1s"]')
    run(config, "crawl", "--url", TENCENT.url)
    time.sleep(1.2)
    revisited = run(config, "crawl", "--revisit-only")
    assert "unchanged 1" in revisited
    archive = tmp_path / "archive"
    warcs = sorted(archive.glob("warc/tencent/**/*.warc.gz"))
    assert len(warcs) == 2  # the first run's capture, the revisit's
    wacz = tmp_path / "tencent.wacz"
    exported = newsarchive("--config", str(config), "export", "--format", "wacz", "-o", str(wacz))
    assert exported.returncode == 0, exported.stderr[-3000:]

    root = tmp_path / "pywb"
    root.mkdir()
    for collection in ("warcs", "wacz"):
        manager(pywb, root, "init", collection)
    manager(pywb, root, "add", "warcs", *map(str, warcs))
    manager(pywb, root, "add", "--unpack-wacz", "wacz", str(wacz))  # the README's recipe

    url = f"{site.url}/news.qq.com/rain/a/20251016A07W8J00"
    title = TENCENT.expected()["article"]["title"]
    with wayback(pywb, root) as base:
        for collection in ("warcs", "wacz"):
            status, body = fetch(f"{base}/{collection}/cdx?url={url}&output=json")
            assert status == 200, body
            captures = [json.loads(line) for line in body.splitlines()]
            # The WARC files hold the first capture and the revisit (pywb resolves its type to
            # the first's); the WACZ, the captures the archived records point at.
            assert len(captures) == (2 if collection == "warcs" else 1), captures
            newest = captures[-1]["timestamp"]
            status, page = fetch(f"{base}/{collection}/{newest}id_/{url}")
            assert status == 200 and title in page, (collection, status, page[:500])
