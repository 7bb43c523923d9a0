"""What every site module provides, so the registry, spiders and CLI treat sites alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from lxml import html as lxml_html
from lxml.etree import _Element

from crawler.parsers.article import Article


@dataclass(frozen=True, slots=True)
class PageRef:
    """The identity of a page, derived from its URL alone (before anything is fetched)."""

    site: str
    id: str
    url: str
    language: str
    kind: str = "article"


class SiteParser(Protocol):
    """A site module's parser: pure functions of the URL and the bytes as served."""

    site: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str]

    def identify(self, url: str) -> PageRef | None:
        """The page's identity, or None when the URL is not one of this site's articles."""

    def parse(self, url: str, body: bytes, headers: Mapping[str, str]) -> Article:
        """The clean article, or a `PageRejected` subclass saying why there is none."""


def parse_document(text: str) -> _Element:
    """The whole page as an lxml tree (C parser: fast enough to run on every page)."""
    return lxml_html.document_fromstring(text)


def select_text(root: _Element, selectors: tuple[str, ...]) -> str | None:
    """Text of the first selector that yields non-empty text.

    A selector ending in `@attr` reads that attribute instead of the element's text, so meta
    tags can sit in the same ordered fallback list as visible elements.
    """
    for selector in selectors:
        css, _, attribute = selector.partition("@")
        for element in root.cssselect(css):
            value = element.get(attribute) if attribute else element.text_content()
            value = " ".join((value or "").split())
            if value:
                return value
    return None
