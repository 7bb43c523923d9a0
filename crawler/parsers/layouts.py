"""Layout eras as data: a site's page layouts, each with the dates it was served, the markers
that recognise it and the selectors of each field. Site parsers declare theirs; the record
names the one that matched (`parser` = `<parser>/<layout>`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from crawler.parsers.base import Selector


@dataclass(frozen=True)
class Layout:
    """One era of a site's article pages (fundus-style): the dates it was served, how to
    recognise it, and where each field sits in its DOM. A site parser may read a field from
    the page's embedded data first; these selectors are the DOM's say."""

    name: str
    served: tuple[date, date | None]  # first and last day seen (None: still served)
    markers: tuple[str, ...]  # any of these in the page's HTML picks the layout
    body: tuple[Selector, ...]
    title: tuple[Selector, ...]
    media: tuple[Selector, ...]
    pubtime: tuple[Selector, ...]
    summary: tuple[Selector, ...]
    editor: tuple[Selector, ...] = ()
    legacy_url: bool = False  # chosen by the URL form (a legacy URL had one layout)


def merged(layouts: tuple[Layout, ...], **chosen: Any) -> Layout:
    """The layout of a page no marker recognises: every layout's selectors, in order, once
    each, served over all their dates; `chosen` fields replace the union."""

    def union(name: str) -> tuple[Selector, ...]:
        return tuple(dict.fromkeys(s for layout in layouts for s in getattr(layout, name)))

    fields = {
        name: union(name) for name in ("body", "title", "media", "pubtime", "summary", "editor")
    }
    start = min(layout.served[0] for layout in layouts)
    return Layout(name="unknown", served=(start, None), markers=(), **{**fields, **chosen})


def by_marker(layouts: tuple[Layout, ...], page: str, unknown: Layout) -> Layout:
    """The first layout whose marker the page's HTML holds; `unknown` when none does."""
    for layout in layouts:
        if any(marker in page for marker in layout.markers):
            return layout
    return unknown
