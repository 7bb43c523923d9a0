"""Text helpers shared by the site parsers: decoding, whitespace, boilerplate patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from w3lib.encoding import html_to_unicode

# str.split() already splits on every Unicode space (NBSP, ideographic space...); only the
# zero-width characters, which are not whitespace to Python, are deleted first.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\ufeff]")


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup; HTTP header names are not case-sensitive."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def decode_page(body: bytes, headers: Mapping[str, str]) -> tuple[str, str]:
    """Decode like a browser: HTTP charset, then BOM and <meta charset>, then UTF-8.

    w3lib maps the legacy Chinese labels (gb2312, gbk) to gb18030, their superset, so a page
    declared GB2312 that uses characters only GBK has still decodes without replacement marks.
    """
    encoding, text = html_to_unicode(header_value(headers, "content-type"), body)
    return encoding, text


def squash(text: str) -> str:
    """Collapse every run of whitespace (incl. NBSP, ideographic and zero-width) to one space."""
    if _ZERO_WIDTH.search(text):
        text = _ZERO_WIDTH.sub("", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Sentence:
    """A boilerplate sentence cut out of a block; `anchor` is a literal it always contains,
    checked first so the regex only runs on the few blocks that can match."""

    anchor: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Boilerplate:
    """Named text patterns that are never article content, wherever they sit in the page.

    `lines` drop a whole block when it matches from start to end; `sentences` are cut out of a
    block that also holds real text (a disclaimer glued to the last paragraph, say).
    """

    lines: Sequence[re.Pattern[str]] = ()
    sentences: Sequence[Sentence] = ()
    _line: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One alternation tried once per block beats trying each pattern in turn.
        combined = "|".join(f"(?:{p.pattern})" for p in self.lines) or r"(?!)"
        object.__setattr__(self, "_line", re.compile(combined, re.IGNORECASE))

    def clean(self, blocks: Iterable[str]) -> list[str]:
        """Blocks with boilerplate removed; blocks left empty by the removal disappear."""
        kept: list[str] = []
        for block in blocks:
            for sentence in self.sentences:
                if sentence.anchor in block:
                    block = sentence.pattern.sub("", block)
            block = block.strip()
            if block and not self._line.fullmatch(block):
                kept.append(block)
        return kept


def sentences(pairs: Iterable[tuple[str, str]]) -> tuple[Sentence, ...]:
    """Compile (anchor, regex) pairs of boilerplate sentences."""
    return tuple(Sentence(anchor, re.compile(pattern)) for anchor, pattern in pairs)


def compile_all(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """Compile a list of boilerplate regexes (kept as data in each site module)."""
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def first_match(
    patterns: Sequence[re.Pattern[str]], blocks: Sequence[str], limit: int | None = None
) -> tuple[int, re.Match[str]] | None:
    """Index and match of the first block (among the first `limit`) matching any pattern."""
    for index, block in enumerate(blocks[:limit] if limit else blocks):
        for pattern in patterns:
            match = pattern.fullmatch(block)
            if match:
                return index, match
    return None
