"""Text helpers shared by the site parsers: decoding, whitespace, boilerplate patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

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


# Declared charsets that a browser-saved page often keeps after being re-saved as UTF-8.
LEGACY_CHARSETS = frozenset({"gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp936"})
# Candidates tried, in order, when the chosen decoding is full of replacement characters.
FALLBACK_ENCODINGS = ("utf-8", "gb18030", "big5")
MOJIBAKE_SHARE = 0.005  # replacement characters per character above which a decoding failed


def decode_page(body: bytes, headers: Mapping[str, str]) -> tuple[str, str]:
    """Decode like a browser, and like a person reading a saved file.

    1. The HTTP header's charset, as browsers do (a live response).
    2. No header (a saved file): a BOM; then the page's declared charset, except that a
       legacy Chinese declaration (gb2312/gbk/big5) loses to bytes that decode strictly as
       UTF-8 and hold multibyte text (a page re-saved as UTF-8 keeps its old meta tag).
    3. Neither: strict UTF-8 if the bytes allow it, else GB18030.
    gb2312 and gbk are always read as GB18030, their superset (w3lib's mapping). When the
    result is full of replacement characters, the other candidates are tried and the
    cleanest wins; `is_mojibake` says when even that one failed.
    """
    content_type = header_value(headers, "content-type")
    if http_content_type_encoding(content_type):
        encoding, text = html_to_unicode(content_type, body)
    elif read_bom(body)[0]:
        encoding, text = html_to_unicode(None, body)
    else:
        declared = html_body_declared_encoding(body)
        resolved = resolve_encoding(declared) if declared else None
        utf8 = _utf8_text(body) if resolved in LEGACY_CHARSETS or not declared else None
        if utf8 is not None:
            encoding, text = "utf-8", utf8
        elif declared:
            encoding, text = html_to_unicode(None, body)
        else:
            encoding, text = "gb18030", body.decode("gb18030", errors="replace")
    if is_mojibake(text):
        candidates = [(name, body.decode(name, errors="replace")) for name in FALLBACK_ENCODINGS]
        encoding, text = min(candidates, key=lambda pair: pair[1].count("\ufffd"))
    return encoding, text


def is_mojibake(text: str) -> bool:
    """Whether a decoded page is mostly broken: replacement characters above MOJIBAKE_SHARE."""
    marks = text.count("\ufffd")
    return marks > 3 and marks / max(len(text), 1) > MOJIBAKE_SHARE


def _utf8_text(body: bytes) -> str | None:
    """The text of bytes that are valid UTF-8 and hold non-ASCII text (pure ASCII proves
    nothing); None otherwise. Decoded once: the caller keeps it."""
    if body.isascii():
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


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
