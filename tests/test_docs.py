"""The documents a reader follows: the README is a door, its map names every room, and every
link between the documents goes somewhere."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.commands import REPO

DOCUMENTS = [
    "README.md",
    "CHANGELOG.md",
    "bench/RESULTS.md",
    *sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")),
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
README_MOST_LINES = 200


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {slug(line.lstrip("#")) for line in lines if re.match(r"#{1,6} ", line)}


def test_the_slug_is_githubs() -> None:
    assert (
        slug(" Archiving to S3 (AWS, MinIO, SeaweedFS, R2)")
        == "archiving-to-s3-aws-minio-seaweedfs-r2"
    )
    assert slug(" Futu's JavaScript challenge") == "futus-javascript-challenge"


def test_every_link_between_the_documents_resolves() -> None:
    broken = []
    for name in DOCUMENTS:
        source = REPO / name
        for target in LINK.findall(source.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a web address: not ours to check offline
            file_part, _, anchor = target.partition("#")
            resolved = (source.parent / file_part).resolve() if file_part else source
            if not resolved.exists():
                broken.append(f"{name}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{name}: {target} (no such heading)")
    assert broken == []


def test_the_readme_is_a_door_and_links_every_document() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MOST_LINES
    linked = set(LINK.findall(readme))
    assert {name for name in DOCUMENTS if name != "README.md"} <= linked


def test_the_readmes_map_names_every_package_and_top_level_module() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    mapped = readme.split("## Where things live", 1)[1]
    missing = []
    for top in ("crawler", "pipelines"):
        for path in sorted((REPO / top).iterdir()):
            if path.name in ("__init__.py", "fixtures", "__pycache__"):
                continue
            if path.is_dir() and (path / "__init__.py").exists():
                if f"{top}/{path.name}/" not in mapped:
                    missing.append(f"{top}/{path.name}/")
            elif path.suffix == ".py" and not re.search(rf"\b{path.stem}\.py\b", mapped):
                missing.append(f"{top}/{path.name}")
    assert missing == []


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (command,) = [
        line.strip() for line in readme.splitlines() if "python -m pytest -m slow" in line
    ]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == command
