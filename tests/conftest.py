"""Shared test fixtures: the local mirror of the sites and a config pointing at it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.fixtures import iter_fixtures
from crawler.mirror import MirrorServer, fixture_routes
from tests.s3server import WeedMini

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def mirror() -> Iterator[MirrorServer]:
    with MirrorServer(fixture_routes(iter_fixtures())) as server:
        yield server


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def mirror_config(tmp_path: Path, mirror: MirrorServer, archive_dir: Path) -> Path:
    """A config file that crawls the mirror into a fresh local archive."""
    path = tmp_path / "newsarchive.toml"
    path.write_text(
        f"""
[archive]
location = "{archive_dir}"
[crawl]
download_delay = 0
log_level = "INFO"
[sites.futu]
base_url = "{mirror.base_url("https://news.futunn.com")}"
[sites.tencent]
base_url = "{mirror.base_url("https://news.qq.com")}"
""",
        encoding="utf-8",
    )
    return path


def user_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without NEWSARCHIVE_* settings, plus the test's own variables."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    return {**inherited, "PYTHONWARNINGS": "error::DeprecationWarning", **(env or {})}


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root, as a user would, capturing its output."""
    return subprocess.run(
        args, cwd=REPO, env=user_env(env), capture_output=True, text=True, timeout=120, check=False
    )


def start_newsarchive(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `newsarchive ...` in the background (for tests that interrupt a running crawl)."""
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", *args], cwd=REPO, env=user_env(env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def scrapy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "scrapy", *args], env=env)


def newsarchive(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "crawler.cli", *args], env=env)


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedMini]:
    """A real S3-compatible server for the session (SeaweedFS weed mini)."""
    server = WeedMini(tmp_path_factory.mktemp("weed")).start()
    yield server
    server.stop()


@pytest.fixture
def bucket(weed: WeedMini, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket per test."""
    slug = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40]
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]  # parametrized ids differ
    name = f"t-{slug.strip('-')}-{digest}"
    weed.client().create_bucket(Bucket=name)
    return name


def bucket_keys(weed: WeedMini, bucket: str) -> list[str]:
    pages = weed.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
