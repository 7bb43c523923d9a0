"""Turn an article container into reading-order text blocks.

Written over lxml elements rather than BeautifulSoup: on a real-size page lxml's C tree walk
is what keeps parsing several times faster than generic extractors (see bench/parse_speed.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml import html as lxml_html
from lxml.etree import _Comment, _Element, _ProcessingInstruction

from crawler.parsers.text import squash

# Elements that start a new line for a reader. Everything else is inline and glued to its
# neighbours exactly as a browser renders it (no spaces added around stock tags, links...).
BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
SKIP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "svg",
        "button",
        "input",
        "select",
        "form",
    ]
)
CELL_TAGS = frozenset(("td", "th"))


def remove(root: _Element, selectors: Iterable[Callable[[_Element], list[_Element]]]) -> None:
    """Drop every element matching the compiled selectors, keeping the text that follows it."""
    for selector in selectors:
        for element in selector(root):
            element.drop_tree()


# Characters that separate the links of a navigation line ("首页 > 财经 | 股票"): not text.
NAV_SEPARATORS = re.compile(r"[\s|>»›/\\·•\-–—_:：,，、()（）\[\]【】<«‹]+")
# A block is a navigation line when links carry this share of its text (separators aside)
# and it has two links or more, or is as short as a single "back to the home page" link.
NAV_LINK_SHARE = 0.8
NAV_SINGLE_LINK_MAX_CHARS = 24


class Noise:
    """Elements that are never article text, by tag, `.class` or `#id` (data, not code).

    Checked inside the block walk itself: one pass over the container instead of one XPath
    walk per selector. With `nav_links`, a block made of links (a channel menu, a crumb
    trail, "return to the home page") is noise too: pages of the 2008-2018 templates put
    such lines inside the article container, where no selector names them.
    """

    def __init__(self, *specs: str, nav_links: bool = False) -> None:
        self.specs = specs
        self.nav_links = nav_links
        self.classes = frozenset(s[1:] for s in specs if s.startswith("."))
        self.ids = frozenset(s[1:] for s in specs if s.startswith("#"))
        self.tags = frozenset(s for s in specs if s[0] not in ".#")
        odd = [s for s in specs if not s[1:].replace("-", "").replace("_", "").isalnum()]
        if odd:
            raise ValueError(f"noise specs must be plain tag, .class or #id: {odd}")

    def plus(self, *specs: str, nav_links: bool | None = None) -> Noise:
        """This noise and more (a layout's own chrome on top of the site's)."""
        links = self.nav_links if nav_links is None else nav_links
        return Noise(*dict.fromkeys((*self.specs, *specs)), nav_links=links)

    def __call__(self, element: _Element) -> bool:
        if element.tag in self.tags or element.get("id") in self.ids:
            return True
        classes = element.get("class")
        if classes and not self.classes.isdisjoint(classes.split()):
            return True
        return self.nav_links and element.tag in NAV_BLOCKS and is_nav_line(element)


NAV_BLOCKS = frozenset(("p", "div", "li", "td", "center"))


def is_nav_line(element: _Element) -> bool:
    """Whether a block's text is (almost) all link text: site navigation, not prose."""
    links = [a for a in element.iter("a") if a is not element]
    if not links:
        return False
    total = len(NAV_SEPARATORS.sub("", element.text_content()))
    if not total:
        return False
    linked = sum(len(NAV_SEPARATORS.sub("", a.text_content())) for a in links)
    if linked < NAV_LINK_SHARE * total:
        return False
    return len(links) >= 2 or total <= NAV_SINGLE_LINK_MAX_CHARS


def text_blocks(root: _Element, noise: Noise | None = None) -> list[str]:
    """Reading-order blocks: paragraphs, headings and list items one each, table rows as text."""
    blocks: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        if not buffer:
            return
        line = squash("".join(buffer))
        buffer.clear()
        if line:
            blocks.append(line)

    def walk(element: _Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        skip = tag in SKIP_TAGS or isinstance(element, (_Comment, _ProcessingInstruction))
        if skip or (noise is not None and noise(element)):
            if element.tail:
                buffer.append(element.tail)
            return
        if tag == "tr":
            flush()
            cells = [squash(cell.text_content()) for cell in element if cell.tag in CELL_TAGS]
            row = " | ".join(cell for cell in cells if cell)
            if row:
                blocks.append(row)
        elif tag in BLOCK_TAGS and not len(element):
            # The common case, a paragraph of plain text: no child walk, no buffer.
            flush()
            line = squash(element.text or "")
            if line:
                blocks.append(line)
            tail = element.tail
            if tail and not tail.isspace():  # after a block, blank space separates nothing
                buffer.append(tail)
            return
        else:
            is_block = tag in BLOCK_TAGS
            if is_block or tag == "br":
                flush()
            if element.text:
                buffer.append(element.text)
            for child in element:
                walk(child)
            if is_block:
                flush()
        if element.tail:
            buffer.append(element.tail)

    walk(root)
    flush()
    return blocks


def fragment_root(fragment_html: str) -> _Element:
    """Parse an HTML fragment (a body kept as HTML in the page's JSON) under one wrapper div."""
    return lxml_html.fragment_fromstring(fragment_html, create_parent="div")


def image_sources(root: _Element, noise: Noise | None = None) -> list[str]:
    """Absolute-ish image URLs in document order; protocol-relative ones get https:. Images
    inside noise (a video widget's poster) and inline `data:` placeholders are not kept."""
    sources = []
    for img in root.iter("img"):
        if noise is not None and any(noise(parent) for parent in img.iterancestors()):
            continue
        src = img.get("src") or img.get("data-src") or ""
        if src.startswith("//"):
            src = "https:" + src
        if src and not src.startswith("data:") and src not in sources:
            sources.append(src)
    return sources
