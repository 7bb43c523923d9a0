"""The house rules, as executable contracts: who may import whom, one list of sites, types.

- pipelines/ (the storage side) imports from crawler/ only the vocabulary (items), the site
  registry and the stat names; only the Scrapy glue module (pipelines/archive.py) imports
  Scrapy; nothing there imports lxml or a parser.
- parsers import neither Scrapy nor the archive: they are pure functions of (url, bytes).
- the spiders reach the archive only through pipelines.state; the runner imports no spider.
- a site's name appears in at most 5 modules under crawler/ and pipelines/.
- the tree shows the architecture: few modules at the top of crawler/ and pipelines/, the
  rest in packages named after their role; no module over 400 lines; no import circle, lazy
  imports included, between modules or between rooms (a top-level module, or a package);
  the wings keep to their side (below).
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
        cwd=REPO,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "archived 1" in result.stdout, result.stdout + result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "COUNTS 1 1 0"


# --- the second re-layout: rooms by role, one-way imports ---------------------------------

CRAWLER_TOP_LEVEL_AT_MOST = 12  # entry and Scrapy glue, vocabulary, persisted paths
PIPELINES_TOP_LEVEL_AT_MOST = 3  # the item pipeline and at most two others
MAX_MODULE_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of crawler/ and pipelines/ (the sample pages aside), by dotted name."""
    found = {}
    for folder in ("crawler", "pipelines"):
        for path in modules(folder):
            if "fixtures" not in path.relative_to(REPO).parts:
                found[module_name(path)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, at any depth. `from a import b` is an
    import of the module a.b when there is one, else of a."""
    known = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names if alias.name in known}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    if sub in known:
                        targets.add(sub)
                    elif node.module in known:
                        targets.add(node.module)
        graph[name] = targets - {name}
    return graph


def room_of(module: str) -> str:
    """The room a module is in: a top-level module is its own room, a package is one room."""
    return ".".join(module.split(".")[:2])


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_between_modules() -> None:
    assert circles(import_graph()) == []


def test_no_import_circle_between_rooms_so_no_layer_imports_a_higher_one() -> None:
    rooms: dict[str, set[str]] = {}
    ties: dict[tuple[str, str], str] = {}
    for module, targets in import_graph().items():
        for target in targets:
            here, there = room_of(module), room_of(target)
            if here != there:
                rooms.setdefault(here, set()).add(there)
                ties.setdefault((here, there), f"{module} -> {target}")
    found = circles(rooms)
    named = [[t for (a, b), t in ties.items() if a in group and b in group] for group in found]
    assert found == [], named


def test_the_cycle_check_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_few_modules_at_the_top_of_crawler_and_pipelines() -> None:
    for folder, most in (
        ("crawler", CRAWLER_TOP_LEVEL_AT_MOST),
        ("pipelines", PIPELINES_TOP_LEVEL_AT_MOST),
    ):
        top = sorted(p.name for p in (REPO / folder).glob("*.py") if p.name != "__init__.py")
        assert len(top) <= most, f"{folder}/: {len(top)} modules at the top: {top}"


def test_no_module_is_over_400_lines_benchmarks_included() -> None:
    paths = [*project_modules().values(), *modules("bench")]
    long = {
        path.relative_to(REPO).as_posix(): lines
        for path in paths
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_line_is_packed_under_the_cap_with_a_formatter_skip() -> None:
    """A module near the cap is split, not squeezed: the formatter lays every line out."""
    paths = [*project_modules().values(), *modules("bench")]
    packed = [
        path.relative_to(REPO).as_posix()
        for path in paths
        if "# fmt: skip" in path.read_text(encoding="utf-8")
    ]
    assert packed == []


def test_every_component_path_in_the_settings_points_into_its_roles_folder() -> None:
    from crawler import settings

    roles = {
        "DOWNLOADER_MIDDLEWARES": "crawler.middlewares.",
        "EXTENSIONS": "crawler.extensions.",
        "ITEM_PIPELINES": "pipelines.archive.",
        "ADDONS": "crawler.addon.",
    }
    for setting, folder in roles.items():
        ours = [path for path in getattr(settings, setting) if not path.startswith("scrapy.")]
        assert ours, setting
        assert all(path.startswith(folder) for path in ours), (setting, ours)


WING_RULES = (
    # (modules under, may not import anything under)
    (
        ("pipelines.store", "pipelines.records", "pipelines.warc", "pipelines.catalog"),
        ("pipelines.state", "pipelines.read", "pipelines.archive", "pipelines.spool"),
    ),
    (
        ("crawler.middlewares", "crawler.extensions", "crawler.health"),
        ("crawler.commands", "crawler.runs", "crawler.cli"),
    ),
    (
        ("crawler.runs", "crawler.frontier", "crawler.spiders", "crawler.health"),
        ("crawler.commands", "crawler.cli"),
    ),
    # The frontier and the web archives are sources a run uses; they start no run.
    (("crawler.frontier", "crawler.webarchive"), ("crawler.runs", "crawler.commands")),
    # Middlewares read request meta keys from crawler.meta, not from a spider's module.
    (("crawler.middlewares",), ("crawler.spiders", "crawler.webarchive.source")),
)


# The one exception: a plain `scrapy crawl` ends through its extension, with the ending every
# run shares, which imports nothing else of crawler.runs (checked below).
WING_EXCEPTIONS = {("crawler.extensions.report", "crawler.runs.ending")}


@pytest.mark.parametrize(("wing", "forbidden"), WING_RULES)
def test_each_wing_keeps_to_its_side(wing: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    for module, targets in import_graph().items():
        if any(is_within(module, w) for w in wing):
            wrong = {
                t
                for t in targets
                if any(is_within(t, f) for f in forbidden) and (module, t) not in WING_EXCEPTIONS
            }
            assert not wrong, f"{module} imports {wrong}"


def test_the_run_ending_is_written_once_and_stands_alone() -> None:
    graph = import_graph()
    assert not {t for t in graph["crawler.runs.ending"] if is_within(t, "crawler.runs")}
    enders = {
        name
        for name, path in project_modules().items()
        if ("crawler.runs.ending", "conclude_run") in names_imported(path)
    }
    assert enders == {"crawler.runs.session", "crawler.extensions.report"}


def test_the_config_imports_nothing_that_imports_it_back() -> None:
    graph = import_graph()
    seen: set[str] = set()
    todo = list(graph["crawler.config"])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    assert "crawler.config" not in seen


def test_a_command_imports_no_other_command_but_the_shared_helpers() -> None:
    for module, targets in import_graph().items():
        if is_within(module, "crawler.commands"):
            others = {t for t in targets if is_within(t, "crawler.commands")}
            assert others <= {"crawler.commands.common"}, f"{module} imports {others}"


def names_imported(path: Path) -> set[tuple[str, str]]:
    """(module, name) of every `from module import name` in a file, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {(node.module, alias.name) for alias in node.names}
    return found


def test_no_spider_takes_a_constant_from_a_middleware_or_the_frontier() -> None:
    """Request meta keys and setting names are in crawler.meta and crawler.addon, below both
    the spiders and the components that read them."""
    spiders = [p for n, p in project_modules().items() if is_within(n, "crawler.spiders")]
    spiders += [project_modules()[n] for n in ("crawler.webarchive.source",)]
    for path in spiders:
        for module, name in names_imported(path):
            owner = is_within(module, "crawler.middlewares") or is_within(
                module, "crawler.frontier.queue"
            )
            assert not (owner and name.isupper()), f"{path.name} imports {name} from {module}"


def test_no_class_is_made_at_run_time_but_the_one_scrapy_redis_asks_for() -> None:
    """Spiders are composed of collaborators (a plan, a source, a ledger), not assembled
    from mixins with `type(name, bases, namespace)`; scrapy-redis builds its spiders so."""
    made = set()
    for name, path in project_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id == "type" and len(node.args) == 3:
                made.add(name)
    assert made == {"crawler.frontier.workers"}


def test_only_the_run_session_runs_a_crawl_and_concludes_it() -> None:
    """One run path: the spiders run from crawler.runs.session (the backfill's seeding run,
    crawler.runs.seeding, uses the runner alone: no summary, no report), and a run is
    concluded in crawler.runs.ending, which both it and the `scrapy crawl` extension call."""
    runners, concluders = set(), set()
    for name, path in project_modules().items():
        imported = names_imported(path)
        if ("crawler.runs.runner", "run_crawl") in imported:
            runners.add(name)
        if imported & {("crawler.health.assess", "conclude"), ("crawler.health.assess", "assess")}:
            concluders.add(name)
    assert runners == {"crawler.runs.session", "crawler.runs.seeding"}
    assert concluders == {"crawler.runs.ending"}
