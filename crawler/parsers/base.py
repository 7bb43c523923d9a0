"""What every site module provides, so the registry, spiders and CLI treat sites alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from lxml import html as lxml_html
from lxml.cssselect import CSSSelector
from lxml.etree import _Element

from crawler.items import Article


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
    # CSS that marks a page rendered in Chromium as loaded; None for sites without challenges.
    ready_selector: ClassVar[str | None]

    def identify(self, url: str) -> PageRef | None:
        """The page's identity, or None when the URL is not one of this site's articles."""

    def parse(self, url: str, body: bytes, headers: Mapping[str, str]) -> Article:
        """The clean article, or a `PageRejected` subclass saying why there is none."""


def parse_document(text: str) -> _Element:
    """The whole page as an lxml tree (C parser: fast enough to run on every page)."""
    return lxml_html.document_fromstring(text)


@dataclass(frozen=True)
class Selector:
    """A CSS selector compiled to XPath once, at import; `css@attr` reads an attribute."""

    css: str
    xpath: CSSSelector
    attribute: str | None
    in_head: bool = False  # meta tags and <title>: only the document's <head> is searched

    def __call__(self, root: _Element) -> list[_Element]:
        if self.in_head and root.tag == "html":
            head = root.find("head")  # a child of <html>: found without walking the body
            if head is not None:
                return self.xpath(head)
        return self.xpath(root)


def selectors(*specs: str) -> tuple[Selector, ...]:
    """Compile an ordered fallback list of selectors (module constants of the site parsers)."""
    compiled = []
    for spec in specs:
        css, _, attribute = spec.partition("@")
        in_head = css.startswith("meta") or css == "title"
        compiled.append(
            Selector(spec, CSSSelector(css, translator="html"), attribute or None, in_head)
        )
    return tuple(compiled)


def union(*specs: str) -> tuple[Selector, ...]:
    """All specs as one selector: one tree walk instead of one per selector (noise lists)."""
    return selectors(", ".join(specs))


def first(root: _Element, candidates: tuple[Selector, ...]) -> _Element | None:
    """The first element matched by the first selector that matches anything."""
    for selector in candidates:
        found = selector(root)
        if found:
            return found[0]
    return None


def select_text(root: _Element, candidates: tuple[Selector, ...]) -> str | None:
    """Text (or attribute) of the first selector that yields non-empty text.

    Meta tags (`meta[property='og:title']@content`) sit in the same ordered fallback lists as
    visible elements.
    """
    for selector in candidates:
        for element in selector(root):
            value = (
                element.get(selector.attribute) if selector.attribute else element.text_content()
            )
            value = " ".join((value or "").split())
            if value:
                return value
    return None
