"""Text for a page of a known site that no layout of its parser recognises.

Site parsers stay the way to read a site (a generic extractor keeps site chrome and takes the
wrong title on the real pages measured here), but a page in a layout nobody has met yet must
not leave readers with nothing until a parser is fixed. So such a page is archived with
trafilatura's text, cleaned of the site's own boilerplate, and marked: the record says
`extraction: "generic"` and names the layout it was tried against, the crawl counts it as
`layout_unknown` (a problem), and `reparse` replaces it once a layout for it exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import trafilatura

from crawler.items import BEIJING, GENERIC, Article
from crawler.parsers.base import PageRef, SiteParser, parse_document, union
from crawler.parsers.blocks import remove
from crawler.parsers.dates import EMBEDDED_TIME, find_local_time
from crawler.parsers.errors import LayoutChanged
from crawler.parsers.text import Boilerplate, decode_page, squash

GENERIC_PARSER = "generic.trafilatura"
# Less text than this is no article, whatever the extractor found (a shell, an error page).
MIN_GENERIC_CHARS = 40
# Ids that start with the day the article ran (20251016A07W8J00, news-20090315000123).
ID_DAY = re.compile(r"^(?:[a-z]+-)?((?:19|20)\d\d)(\d\d)(\d\d)(?:[A-Z]|\d{6}$)")
# The first lines of generic text often carry the page's time bar ("2025/09/17 10:32").
TIME_LINES = 3
SCRIPTS = union("script", "style", "noscript", "template")


def generic_article(
    parser: SiteParser, url: str, body: bytes, headers: Mapping[str, str], tried: LayoutChanged
) -> Article | None:
    """The page as a generic extractor reads it, marked as such; None when it finds no
    article either (then the page stays a `layout_changed` rejection, kept raw)."""
    ref = parser.identify(url)
    if ref is None:
        return None
    _, page = decode_page(body, headers)
    document = trafilatura.bare_extraction(
        page,
        url=ref.url,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
    )
    text = getattr(document, "text", None)
    if not isinstance(text, str) or not text:
        return None
    lines = [line for line in (squash(raw) for raw in text.split("\n")) if line]
    boilerplate: Boilerplate | None = getattr(parser, "boilerplate", None)
    if boilerplate is not None:
        lines = boilerplate.clean(lines)
    title = _title(parser, document)
    if title:  # the headline repeated above the text is not text
        lines = [line for line in lines if squash(line) != title]
    published, lines = _published(lines, ref, page, getattr(document, "date", None))
    if published is None or not title or sum(map(len, lines)) < MIN_GENERIC_CHARS:
        return None
    return Article(
        site=ref.site,
        id=ref.id,
        url=ref.url,
        title=title,
        paragraphs=tuple(lines),
        published=published,
        language=ref.language,
        parser=GENERIC_PARSER,
        parser_version=trafilatura.__version__,
        extraction=GENERIC,
        layout_tried=tried.layout or parser.name,
    )


def _visible_text(page: str) -> str:
    root = parse_document(page)
    remove(root, SCRIPTS)
    return " ".join(root.text_content().split())


def _title(parser: SiteParser, document: Any) -> str | None:
    title = squash(getattr(document, "title", None) or "")
    suffix: re.Pattern[str] | None = getattr(parser, "title_suffix", None)
    if suffix is not None:
        title = suffix.sub("", title)
    return title or None


def _published(
    lines: list[str], ref: PageRef, page: str, extracted_day: str | None
) -> tuple[datetime | None, list[str]]:
    """The publication time: a time among the first lines (that line dropped when it holds
    nothing else), else the first time the page shows (its info bar, before any list of
    other articles), else the day in the article's id, else the extractor's date."""
    for index, line in enumerate(lines[:TIME_LINES]):
        found = find_local_time(line)
        if found is not None:
            if not EMBEDDED_TIME.sub("", line).strip():
                lines = lines[:index] + lines[index + 1 :]
            return found, lines
    shown = find_local_time(_visible_text(page))
    if shown is not None:
        return shown, lines
    day = ID_DAY.match(ref.id)
    for text in (f"{day[1]}-{day[2]}-{day[3]}" if day else None, extracted_day):
        try:
            return datetime.strptime((text or "")[:10], "%Y-%m-%d").replace(tzinfo=BEIJING), lines
        except ValueError:
            continue
    return None, lines
