"""Rewrite every fixture's expected.json from the current parsers, for a person to review.

Usage: python tests/regenerate_expected.py [site/case ...]   then   git diff crawler/fixtures

The hand-written `must_contain` / `must_not_contain` lists are kept as they are: they are the
independent truth (read off the page by a person), the rest is the parser's current output.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from crawler.mirror.fixtures import Fixture, iter_fixtures
from crawler.parsers import PageRejected, ParseError, parse
from crawler.parsers.errors import NotAnArticle


def outcome_of(fixture: Fixture) -> dict[str, Any]:
    """The parser's verdict on a fixture in expected.json form."""
    try:
        article = parse(fixture.url, fixture.body, fixture.headers)
    except PageRejected as rejected:
        out: dict[str, Any] = {"outcome": rejected.reason}
        if isinstance(rejected, ParseError):
            out["field"] = rejected.field
        if isinstance(rejected, NotAnArticle):
            out["kind"] = rejected.kind
        return out
    return {"outcome": "article", "article": article.to_dict()}


def main(argv: list[str]) -> int:
    wanted = set(argv)
    for fixture in iter_fixtures():
        if wanted and fixture.name not in wanted:
            continue
        previous = fixture.expected()
        updated = outcome_of(fixture)
        for key in ("must_contain", "must_not_contain"):
            updated[key] = previous.get(key, [])
        fixture.expected_path.write_text(
            json.dumps(updated, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        changed = "changed" if updated != previous else "same"
        print(f"{fixture.name}: {updated['outcome']} ({changed})")
    print("Review with: git diff crawler/fixtures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
