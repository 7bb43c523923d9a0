"""What the mirror's listings are made of: one `Listed` article, and small response helpers.

Kept apart from catalog.py so the per-site listing modules and the catalog can both use it
without importing each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from crawler.mirror.server import Route


@dataclass(frozen=True)
class Listed:
    """One article as the listings show it."""

    site: str
    num: str  # the site's own number or id of the article
    kind: str  # what the site calls the page (post, flash, article, ...)
    language: str
    title: str
    outlet: str
    published: datetime
    page: Route
    channel: str = ""
    is_article: bool = True  # False for the challenge, deleted, video... fixtures
    # For a challenge page: what a client that ran the challenge script gets instead.
    after_challenge: Route | None = None


def query_value(query: dict[str, list[str]], name: str, default: str) -> str:
    return query.get(name, [default])[0]


def json_route(value: object) -> Route:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Route(200, {"Content-Type": "application/json; charset=utf-8"}, body)
