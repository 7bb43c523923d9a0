"""Layout eras as data: a site's page layouts, each with the dates it was served, the markers
that recognise it, the selectors of each field and the site chrome its article container
holds. Site parsers declare theirs; the record names the one that matched
(`parser` = `<parser>/<layout>`), and a page no layout recognises names the layout it was
tried against when it goes to the generic extractor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from crawler.parsers.base import Selector
from crawler.parsers.blocks import Noise
from crawler.parsers.text import Boilerplate

NO_CHROME = Boilerplate()


@dataclass(frozen=True)
class Layout:
    """One era of a site's article pages (fundus-style): the dates it was served, how to
    recognise it, and where each field sits in its DOM. A site parser may read a field from
    the page's embedded data first; these selectors are the DOM's say.

    `served` is documentation, not a choice: a layout is picked by URL form and markers, in
    the order declared, whatever day the page is from. Where a page holds the markers of two
    eras (one site's pages carry both `origin_content` and `id="newsDetail"`), the declared order
    decides, and every sample page of each era reads right that way; a pick by the page's day
    (fundus's VALID_UNTIL) is for the day two eras' pages need different selectors."""

    name: str
    served: tuple[date, date | None]  # first and last day seen (None: still served)
    markers: tuple[str, ...]  # any of these in the page's HTML picks the layout
    body: tuple[Selector, ...]
    title: tuple[Selector, ...]
    media: tuple[Selector, ...]
    pubtime: tuple[Selector, ...]
    summary: tuple[Selector, ...]
    editor: tuple[Selector, ...] = ()
    legacy_url: bool = False  # a layout of the legacy URL form (<channel>.qq.com/a/...)
    # Site chrome inside the article container: elements (share bars, related tables, search
    # boxes, navigation lines) and whole text lines ("【字号 大 中 小】") that are never text.
    noise: Noise | None = None
    chrome: Boilerplate = NO_CHROME


def merged(layouts: tuple[Layout, ...], **chosen: Any) -> Layout:
    """The layout of a page no marker recognises: every layout's selectors, in order, once
    each, served over all their dates; `chosen` fields replace the union."""

    def union(name: str) -> tuple[Any, ...]:
        return tuple(dict.fromkeys(s for layout in layouts for s in getattr(layout, name)))

    fields: dict[str, Any] = {
        name: union(name) for name in ("body", "title", "media", "pubtime", "summary", "editor")
    }
    lines = (line for layout in layouts for line in layout.chrome.lines)
    fields["chrome"] = Boilerplate(lines=tuple(dict.fromkeys(lines)))
    noises = [layout.noise for layout in layouts if layout.noise is not None]
    if noises:
        specs = (spec for noise in noises for spec in noise.specs)
        fields["noise"] = Noise(*dict.fromkeys(specs), nav_links=False)
    start = min(layout.served[0] for layout in layouts)
    return Layout(name="unknown", served=(start, None), markers=(), **{**fields, **chosen})


def by_marker(layouts: tuple[Layout, ...], page: str, unknown: Layout) -> Layout:
    """The first layout whose marker the page's HTML holds; `unknown` when none does."""
    for layout in layouts:
        if any(marker in page for marker in layout.markers):
            return layout
    return unknown
