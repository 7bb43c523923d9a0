"""Shared test fixtures: the local mirror of the sites and a config pointing at it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.mirror.fixtures import iter_fixtures
from crawler.mirror.server import MirrorServer, fixture_routes
from tests.support.configs import mirror_config as write_mirror_config
from tests.support.s3server import WeedMini

CHECKOUT_STATE = ("archive", "spool", "locks", "logs")  # the default config's folders
REPO = Path(__file__).resolve().parent.parent

# The quick loop (`python -m pytest -m "not slow"`, CI's first stage): modules of pure
# functions, lint, types and the house rules, which start no server and no crawl. Every other
# test is `slow`; the servers a test starts add their own marker, so `-m "not redis"` leaves
# out what needs redis-server on a machine without it.
QUICK_MODULES = frozenset(
    {
        "test_lint",
        "test_architecture",
        "test_parsers",
        "test_config",
        "test_promises",
        "test_run_ending",
        "test_request_plan",
        "test_outcomes",
        "test_record_schema",
        "test_docs",
    }
)
SERVER_FIXTURES = {"weed": "s3", "bucket": "s3", "redis_server": "redis", "frontier": "redis"}
SERVER_MODULES = {
    "test_rendering": "chromium",
    "test_web": "chromium",
    "test_replay": "pywb",
    "test_history": "pywb",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.path.stem
        servers = {
            SERVER_FIXTURES[f] for f in getattr(item, "fixturenames", ()) if f in SERVER_FIXTURES
        }
        if module in SERVER_MODULES:
            servers.add(SERVER_MODULES[module])
        for name in servers:
            item.add_marker(name)
        if servers or module not in QUICK_MODULES:
            item.add_marker("slow")


@pytest.fixture(autouse=True)
def checkout_state_untouched() -> Iterator[None]:
    """Tests never use the checkout's own state folders: a crawl running in this checkout
    must not fail them, and they must not write into its archive."""
    before = {name for name in CHECKOUT_STATE if (REPO / name).exists()}
    yield
    created = {name for name in CHECKOUT_STATE if (REPO / name).exists()} - before
    assert not created, f"the test wrote the checkout's own {sorted(created)}"


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
    return write_mirror_config(tmp_path / "newsarchive.toml", mirror, archive_dir)


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
