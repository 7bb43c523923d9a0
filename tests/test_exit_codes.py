"""`newsarchive crawl` exit codes, one failure class at a time, as cron sees them:
0 ok, 1 finished with problems, 2 configuration or usage error. (Pending uploads: the S3
outage test; discovery broken: test_discovery; a crawl holding the lock: test_schedule.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from crawler.mirror.catalog import Catalog
from crawler.mirror.fixtures import FIXTURES_DIR, Fixture, iter_fixtures, load_fixture
from crawler.mirror.server import MirrorServer
from tests.support.commands import newsarchive
from tests.support.configs import discovery_config

TENCENT_NOW = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data")
TENCENT_GBK = load_fixture(FIXTURES_DIR / "tencent" / "gb2312-2016")
TENCENT_HEADLINE = load_fixture(FIXTURES_DIR / "tencent" / "headline-only")


def only_report(config: Path) -> dict:
    (path,) = (config.parent / "archive" / "runs").rglob("*.json")
    return json.loads(path.read_text())


def crawl_urls(config: Path, *fixtures: Fixture) -> subprocess.CompletedProcess[str]:
    urls = [arg for fixture in fixtures for arg in ("--url", fixture.url)]
    return newsarchive("--config", str(config), "crawl", *urls)


def test_every_page_an_article_exits_0(tmp_path: Path, mirror: MirrorServer) -> None:
    config = discovery_config(tmp_path, mirror)
    result = crawl_urls(config, TENCENT_NOW, TENCENT_GBK)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "PROBLEM" not in result.stdout
    assert only_report(config)["exit_status"] == 0


def test_parse_failures_above_the_threshold_exit_1(tmp_path: Path, mirror: MirrorServer) -> None:
    config = discovery_config(tmp_path, mirror)
    result = crawl_urls(config, TENCENT_NOW, TENCENT_GBK, TENCENT_HEADLINE)
    assert result.returncode == 1
    assert "PROBLEM: tencent: 1 of 3 pages failed, above 5%" in result.stdout
    assert f"tencent: parse error: {TENCENT_HEADLINE.url}" in result.stdout
    report = only_report(config)
    assert report["exit_status"] == 1
    (failure,) = report["sites"]["tencent"]["failures"]
    assert failure["url"] == TENCENT_HEADLINE.url and failure["reason"] == "parse_error"


def test_parse_failures_within_the_threshold_are_reported_but_exit_0(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    config = discovery_config(tmp_path, mirror, crawl={"max_failure_ratio": 0.5})
    result = crawl_urls(config, TENCENT_NOW, TENCENT_GBK, TENCENT_HEADLINE)
    assert result.returncode == 0, result.stdout
    assert f"tencent: parse error: {TENCENT_HEADLINE.url}" in result.stdout
    assert only_report(config)["sites"]["tencent"]["parse_errors"] == 1


def test_listings_with_no_articles_at_all_exit_1(tmp_path: Path) -> None:
    """Well-formed but empty listings: not 'no news today' for a site that always has news."""
    catalog = Catalog(iter_fixtures())
    with MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror:
        # The mirror has no Traditional-Chinese flash items: the zh-HK flash list is empty.
        config = discovery_config(tmp_path, mirror, languages=["zh-HK"], sources=["flash"])
        result = newsarchive("--config", str(config), "crawl", "--site", "futu")
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    assert "PROBLEM: futu: the listings gave no articles at all" in result.stdout
    assert only_report(config)["problems"] == ["futu: the listings gave no articles at all"]


def test_a_bad_setting_exits_2_before_crawling(tmp_path: Path, mirror: MirrorServer) -> None:
    config = discovery_config(tmp_path, mirror, crawl={"max_failure_ratio": 3})
    result = crawl_urls(config, TENCENT_NOW)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "newsarchive: setting 'crawl.max_failure_ratio' must be between 0 and 1"
    )
    assert not (tmp_path / "archive").exists()
