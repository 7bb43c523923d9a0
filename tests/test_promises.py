"""The small promises the project makes about itself, read from the files people read.

- The version in pyproject.toml is the newest CHANGELOG entry's: every WARC file and WACZ
  package names it as its software, so a run's files say which code wrote them.
- The CHANGELOG's parser log names each parser's current version (its newest line per parser).
"""

from __future__ import annotations

import re
import tomllib

from crawler.parsers import PARSERS
from tests.support.commands import REPO

ENTRY = re.compile(r"^### (\d+\.\d+\.\d+) \((\d{4}-\d\d-\d\d)[^)]*\): \S", re.MULTILINE)
PARSER_LINE = re.compile(r"^- (\d{4}-\d\d-\d\d) (\w+)\.article (\d+\.\d+\.\d+):", re.MULTILINE)


def changelog() -> str:
    return (REPO / "CHANGELOG.md").read_text(encoding="utf-8")


def application_part() -> str:
    return changelog().split("## Application", 1)[1].split("## Parsers", 1)[0]


def test_the_version_is_the_newest_changelog_entrys() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    entries = ENTRY.findall(application_part())
    assert entries, "no '### X.Y.Z (date): title' entry under ## Application"
    assert entries[0][0] == version


def test_every_changelog_entry_names_a_version_and_they_go_down() -> None:
    part = application_part()
    headings = [line for line in part.splitlines() if line.startswith("### ")]
    entries = ENTRY.findall(part)
    assert len(entries) == len(headings), [h for h in headings if not ENTRY.match(h)]
    numbers = [tuple(int(n) for n in version.split(".")) for version, _ in entries]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers)


def test_the_parser_log_names_each_parsers_current_version() -> None:
    log = changelog().split("## Parsers", 1)[1]
    newest: dict[str, str] = {}
    for _day, site, version in PARSER_LINE.findall(log):
        newest.setdefault(site, version)  # newest first
    assert newest == {site: parser.version for site, parser in PARSERS.items()}
