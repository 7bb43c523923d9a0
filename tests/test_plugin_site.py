"""A site outside the package registers through the `newsarchive.sites` entry point alone,
and then `scrapy list`, the CLI, the crawl and the reader all see it.

The throwaway site lives in tests/plugin/example_news; the test "installs" it the way pip
would leave it, as a distribution's metadata with an entry_points.txt on the path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.mirror.fixtures import load_fixture
from crawler.mirror.server import MirrorServer, Route, mirror_path
from tests.support.commands import REPO, newsarchive, scrapy

PLUGIN = REPO / "tests" / "plugin"
STORY = PLUGIN / "example_news" / "fixtures" / "example" / "one-story"


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """PYTHONPATH with the plug-in's code and its installed-distribution metadata."""
    dist = tmp_path / "site-packages" / "example_news-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: example-news\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[newsarchive.sites]\nexample = example_news:SITE\n")
    return {"PYTHONPATH": f"{dist.parent}:{PLUGIN}:{REPO}"}


@pytest.fixture
def story_server() -> Iterator[MirrorServer]:
    story = load_fixture(STORY)
    routes = {mirror_path(story.url): Route(story.status, story.headers, story.body)}
    with MirrorServer(routes) as server:
        yield server


def test_scrapy_list_sees_the_plugin_site(plugin_env: dict[str, str]) -> None:
    listed = scrapy("list", env=plugin_env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert listed.stdout.split() == ["example", "futu", "tencent"]


def test_a_plugin_site_is_crawled_archived_and_read_back(
    plugin_env: dict[str, str], story_server: MirrorServer, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    config = tmp_path / "plugin.toml"
    config.write_text(
        f'[archive]\nlocation = "{archive}"\nspool_dir = "{tmp_path / "spool"}"\n'
        f'[crawl]\ndownload_delay = 0\nlock_dir = "{tmp_path / "locks"}"\n'
        f'[sites.example]\nbase_url = "{story_server.base_url("https://news.example.org")}"\n',
        encoding="utf-8",
    )
    url = "https://news.example.org/story/4711?utm_source=feed"
    crawled = newsarchive("--config", str(config), "crawl", "--url", url, env=plugin_env)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr[-3000:]
    assert "example: discovered 0" in crawled.stdout and "archived 1" in crawled.stdout
    pages = [path for path in story_server.requests if path != "/robots.txt"]
    assert pages == ["/news.example.org/story/4711"]

    (record_path,) = (archive / "articles" / "example").rglob("*.json")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record_path.relative_to(archive).as_posix() == "articles/example/2026/11/20/4711.json"
    assert record["title"] == "Harbour cranes return to the east quay"
    assert record["text"] == (
        "The three cranes removed for repair in the spring were back at work on Friday.\n\n"
        "Port staff said the quay would handle its usual traffic again from next week."
    )

    listed = newsarchive("--config", str(config), "ls", "--site", "example", env=plugin_env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("  ")[1:3] == ["example", "4711"]
    # Without the plug-in the same CLI knows no such site: the choice came from the registry.
    refused = newsarchive("--config", str(config), "ls", "--site", "example")
    assert refused.returncode == 2 and "invalid choice: 'example'" in refused.stderr
