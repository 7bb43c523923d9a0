"""The house rules, as executable contracts: who may import whom, one list of sites, types.

- pipelines/ (the storage side) imports from crawler/ only the vocabulary (items), the site
  registry and the stat names; only the Scrapy glue module (pipelines/archive.py) imports
  Scrapy; nothing there imports lxml or a parser.
- parsers import neither Scrapy nor the archive: they are pure functions of (url, bytes).
- the spiders reach the archive only through pipelines.state; the runner imports no spider.
- a site's name appears in at most 5 modules under crawler/ and pipelines/.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.commands import REPO, scrapy, user_env

PIPELINES_MAY_USE = {"crawler.items", "crawler.sites", "crawler.stats"}
SCRAPY_GLUE = {"pipelines/archive.py"}
MAX_MODULES_NAMING_A_SITE = 5


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_storage_side_knows_only_items_sites_and_stats_of_the_crawler() -> None:
    for path in modules("pipelines"):
        name = path.relative_to(REPO).as_posix()
        for module in imports_of(path):
            if is_within(module, "crawler"):
                assert module in PIPELINES_MAY_USE, f"{name} imports {module}"
            assert not is_within(module, "lxml"), f"{name} imports {module}"
            if name not in SCRAPY_GLUE:
                assert not is_within(module, "scrapy"), f"{name} imports {module}"
                assert not is_within(module, "twisted"), f"{name} imports {module}"


def test_parsers_know_no_scrapy_and_no_storage() -> None:
    for path in modules("crawler/parsers"):
        for module in imports_of(path):
            for forbidden in ("scrapy", "twisted", "pipelines", "crawler.spiders"):
                assert not is_within(module, forbidden), f"{path.name} imports {module}"


def test_the_vocabulary_and_the_registry_stay_light() -> None:
    for light in ("crawler/items.py", "crawler/sites.py", "crawler/stats.py"):
        heavy = {m for m in imports_of(REPO / light) if m.split(".")[0] in ("lxml", "scrapy")}
        assert not heavy, f"{light} imports {heavy}"
        assert not any(is_within(m, "crawler.parsers") for m in imports_of(REPO / light))


def test_spiders_reach_the_archive_only_through_the_archive_state() -> None:
    for path in modules("crawler/spiders"):
        archive = {m for m in imports_of(path) if is_within(m, "pipelines")}
        assert archive <= {"pipelines.state"}, f"{path.name} imports {archive}"
    assert not any(
        is_within(m, "crawler.spiders") for m in imports_of(REPO / "crawler/runs/runner.py")
    )


def test_importing_the_archive_side_loads_no_parser_lxml_or_scrapy() -> None:
    code = (
        "import sys, pipelines, pipelines.records.layout, pipelines.store, pipelines.read.reader, "
        "pipelines.state, pipelines.records.writer, pipelines.spool, pipelines.records.day_index, "
        "pipelines.records.journal\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lxml', 'scrapy', 'twisted')"
        " or m.startswith('crawler.parsers')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=user_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_parsers_registry_and_scrapy_list_name_the_same_sites() -> None:
    from crawler.parsers import PARSERS
    from crawler.sites import SITES

    listed = scrapy("list")
    assert listed.returncode == 0, listed.stderr
    assert set(PARSERS) == set(SITES) == set(listed.stdout.split())


@pytest.mark.parametrize("site", ["futu", "tencent"])
def test_a_site_is_named_in_few_modules(site: str) -> None:
    word = re.compile(rf"\b{site}\b", re.IGNORECASE)
    naming = [
        path.relative_to(REPO).as_posix()
        for folder in ("crawler", "pipelines")
        for path in modules(folder)
        if word.search(path.read_text(encoding="utf-8"))
    ]
    assert len(naming) <= MAX_MODULES_NAMING_A_SITE, naming


def test_mypy_reports_no_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


COUNTING_RUN = """
import sys, tomllib
import pipelines.store as store
counts = {"toml": 0, "store": 0}
loads, open_store = tomllib.loads, store.open_store
def counting_loads(*a, **k):
    counts["toml"] += 1
    return loads(*a, **k)
def counting_open(*a, **k):
    counts["store"] += 1
    return open_store(*a, **k)
tomllib.loads, store.open_store = counting_loads, counting_open
from crawler.cli import main
status = main(sys.argv[1:])
print("COUNTS", counts["toml"], counts["store"], status)
"""


def test_a_two_site_crawl_reads_the_config_once_and_opens_the_store_once(
    mirror_config: Path,
) -> None:
    from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture

    cases = (("futu", "zh-cn-post"), ("tencent", "current-window-data"))
    urls = [load_fixture(FIXTURES_DIR / site / case).url for site, case in cases]
    args = ["--config", str(mirror_config), "crawl", "--url", urls[0], "--url", urls[1]]
    result = subprocess.run(
        [sys.executable, "-c", COUNTING_RUN, *args],
        cwd=REPO, env=user_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "archived 1" in result.stdout, result.stdout + result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "COUNTS 1 1 0"
