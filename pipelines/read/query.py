"""The search query language: words and "quoted phrases", CJK text as overlapping bigrams,
and the marks around matches in snippets. Pure functions of strings: no SQLite, no archive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARK_START, MARK_END = "\u27e6", "\u27e7"  # ⟦match⟧: plain text that survives any terminal
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
_TERM = re.compile(r'"([^"]*)"|(\S+)')
# unicode61 makes "AI芯片PPU" one token; a zero-width space (a separator for our tokenizer,
# invisible in snippets) at each border between CJK and other text lets AI and PPU be found.
BORDER = "\u200b"
# Characters FTS5 query syntax gives a meaning to: a query is plain text, never syntax.
_SYNTAX = re.compile(r"[^\w\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af.$&-]+")


class QueryError(ValueError):
    """A query that holds nothing to search for."""


def cjk_bigrams(text: str) -> str:
    """The CJK runs of a text as overlapping bigrams (and each run's last character), space
    separated: what the `cjk` column indexes and CJK query terms are turned into."""
    tokens = []
    for run in _CJK.findall(text):
        tokens += [run[i : i + 2] for i in range(len(run) - 1)]
        tokens.append(run[-1])
    return " ".join(tokens)


@dataclass(frozen=True)
class Query:
    """A user's query as an FTS5 expression, and the literal pieces to mark in snippets."""

    expression: str
    cjk_terms: tuple[str, ...]
    # Words that mix scripts (AI芯片): their parts sit in different columns, so adjacency is
    # checked on the text itself.
    mixed: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Query:
        """Words and "quoted phrases", all required. Anything FTS5 would read as syntax is
        plain text; an unbalanced quote is an ordinary character."""
        if text.count('"') % 2:
            text = text.replace('"', " ")
        parts, cjk_terms, mixed = [], [], []
        for phrase, word in _TERM.findall(text):
            piece = phrase if phrase else word
            if _CJK.search(piece) and _CJK.sub("", piece).strip():
                mixed.append(piece.lower())
            latin = " ".join(w for w in _SYNTAX.sub(" ", _CJK.sub(" ", piece)).split() if w)
            for run in _CJK.findall(piece):
                cjk_terms.append(run)
                grams = [run[i : i + 2] for i in range(len(run) - 1)] or [run]
                if len(run) == 1:
                    parts.append(f'cjk: "{run}" *')
                else:
                    parts.append('cjk: "' + " ".join(grams) + '"')
            if latin:
                if phrase:
                    parts.append('{title body}: "' + latin.replace('"', "") + '"')
                else:
                    parts += ['{title body}: "' + w + '"' for w in latin.split()]
        if not parts:
            raise QueryError("the query holds no words to search for")
        return cls(" AND ".join(parts), tuple(cjk_terms), tuple(mixed))


def bordered(text: str) -> str:
    return _CJK.sub(lambda run: f"{BORDER}{run[0]}{BORDER}", text)


def cjk_snippet(text: str, query: Query, width: int = 40) -> str:
    """A window of the original text around the first CJK match, every match marked."""
    positions = [text.find(term) for term in query.cjk_terms if term in text]
    if not positions:
        return text[: width * 2].replace("\n", " ")
    start = max(min(positions) - width // 2, 0)
    window = text[start : start + width * 2].replace("\n", " ")
    terms = sorted(set(query.cjk_terms), key=len, reverse=True)  # 阿里巴巴 before 阿里
    pattern = re.compile("|".join(re.escape(term) for term in terms))
    window = pattern.sub(lambda match: f"{MARK_START}{match[0]}{MARK_END}", window)
    return ("… " if start else "") + window + (" …" if start + width * 2 < len(text) else "")
