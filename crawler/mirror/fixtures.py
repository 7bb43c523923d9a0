"""Load sample pages (`<site fixtures>/<case>/`) as served: bytes, headers, URL.

Each site names its fixture folder in the registry (crawler/sites.py); the built-in sites'
pages ship inside the package (`crawler/fixtures/<site>/<case>/`), so `newsarchive demo` works
from an installed wheel. Shared by the tests, the expected-output regenerator, the local mirror
and the benchmarks, so all of them see a fixture exactly the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.sites import FIXTURES, SITES

FIXTURES_DIR = FIXTURES  # the built-in sites' pages: FIXTURES_DIR / <site> / <case>


@dataclass(frozen=True)
class Fixture:
    """One saved page: raw bytes as served plus what the test expects of it."""

    site: str
    case: str
    path: Path
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    # A challenge page's article, as served once its script has run (meta.json after_challenge).
    after_challenge: bytes | None = None
    # Why the demo serves this page although it fails on purpose (meta.json demo_note).
    demo_note: str | None = None
    # What the site does to this page between two demo runs (meta.json demo_change): an edit
    # {"edit": [old, new]} or a removal {"delete": true}, for the demo's revisits to find.
    demo_change: dict[str, Any] | None = None
    # False: a page of an era the site's listings no longer hold (meta.json "listed"); the
    # mirror serves it at its URL but lists it nowhere.
    listed: bool = True

    @property
    def name(self) -> str:
        return f"{self.site}/{self.case}"

    @property
    def expected_path(self) -> Path:
        return self.path / "expected.json"

    @property
    def read_by_layout(self) -> bool:
        """An article one of its site parser's layouts reads (not the generic extractor's)."""
        expected = self.expected()
        article = expected.get("article") or {}
        return expected.get("outcome") == "article" and not article.get("extraction")

    def expected(self) -> dict[str, Any]:
        """The reviewed expected.json (empty dict before the first regeneration)."""
        if not self.expected_path.exists():
            return {}
        return json.loads(self.expected_path.read_text(encoding="utf-8"))


def load_fixture(path: Path) -> Fixture:
    """Read one case directory."""
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    return Fixture(
        site=path.parent.name,
        case=path.name,
        path=path,
        url=meta["url"],
        status=int(meta.get("status", 200)),
        headers=dict(meta.get("headers", {})),
        body=(path / "page.html").read_bytes(),
        after_challenge=(path / meta["after_challenge"]).read_bytes()
        if meta.get("after_challenge")
        else None,
        demo_note=meta.get("demo_note"),
        demo_change=meta.get("demo_change"),
        listed=bool(meta.get("listed", True)),
    )


def iter_fixtures(root: Path | None = None, site: str | None = None) -> Iterator[Fixture]:
    """Every case of every registered site (or under `root/<site>/`), in a stable order."""
    if root is None:
        folders = [s.fixtures for s in SITES.values() if s.fixtures.is_dir()]
    else:
        folders = sorted(p for p in root.iterdir() if p.is_dir())
    for site_dir in folders:
        if site and site_dir.name != site:
            continue
        for case_dir in sorted(p for p in site_dir.iterdir() if (p / "meta.json").exists()):
            yield load_fixture(case_dir)
