"""What changed between two archived versions of an article, for `newsarchive diff`.

Readers want the edit itself, not two texts to compare by eye: the changed fields, and the
text as an inline diff of the paragraphs that differ. English is compared word by word;
Chinese, which has no spaces between words, character by character.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Fields that are the text itself (shown as the text diff) or bookkeeping of the archive.
TEXT_FIELDS = frozenset({"text", "paragraphs"})
BOOKKEEPING = frozenset(
    {
        "content_sha256",
        "version",
        "previous_key",
        "changed_fields",
        "seen_at",
        "source_url",
        "fetched_url",
        "fetched_at",
        "http_status",
        "http_headers",
        "rendered_by",
        "warc",
        "text_key",
        "raw_key",
        "layout_version",
        "archived_at",
        "parser",
        "parser_version",
    }
)
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Change:
    op: str  # equal, delete, insert, replace
    old: str
    new: str


@dataclass(frozen=True)
class VersionDiff:
    site: str
    id: str
    old_version: int
    new_version: int
    seen_at: str | None  # when the newer version was first seen
    fields: dict[str, tuple[Any, Any]]  # changed non-text fields: (old, new)
    paragraphs: list[list[Change]]  # one inline diff per paragraph that differs

    @property
    def changed_fields(self) -> list[str]:
        text = ["text"] if self.paragraphs else []
        return sorted([*self.fields, *text])

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "id": self.id,
            "from": self.old_version,
            "to": self.new_version,
            "seen_at": self.seen_at,
            "changed_fields": self.changed_fields,
            "fields": {name: {"from": old, "to": new} for name, (old, new) in self.fields.items()},
            "text": [[vars(change) for change in paragraph] for paragraph in self.paragraphs],
        }

    def lines(self) -> Iterator[str]:
        """The diff as people read it: `[-removed-]` and `{+added+}` inline."""
        seen = f" (seen {self.seen_at})" if self.seen_at else ""
        yield f"{self.site} {self.id}: v{self.old_version} -> v{self.new_version}{seen}"
        yield "changed: " + (", ".join(self.changed_fields) or "nothing")
        for name, (old, new) in self.fields.items():
            yield f"{name}: [-{old}-] {{+{new}+}}"
        for paragraph in self.paragraphs:
            yield ""
            yield "".join(_marked(change) for change in paragraph)


def diff_versions(old: dict[str, Any], new: dict[str, Any]) -> VersionDiff:
    """The difference between two records of one article (older first)."""
    names = (set(old) | set(new)) - TEXT_FIELDS - BOOKKEEPING
    fields = {n: (old.get(n), new.get(n)) for n in sorted(names) if old.get(n) != new.get(n)}
    chinese = str(new.get("language") or old.get("language") or "").startswith("zh")
    before, after = list(old.get("paragraphs") or []), list(new.get("paragraphs") or [])
    paragraphs = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and a2 - a1 == b2 - b1:
            pairs = zip(before[a1:a2], after[b1:b2], strict=True)
            paragraphs += [_inline(x, y, chinese) for x, y in pairs]
        else:
            gone, added = "\n\n".join(before[a1:a2]), "\n\n".join(after[b1:b2])
            paragraphs.append([Change(op, gone, added)])
    return VersionDiff(
        site=str(new.get("site")),
        id=str(new.get("id")),
        old_version=int(old.get("version", 0)),
        new_version=int(new.get("version", 0)),
        seen_at=new.get("seen_at") or new.get("fetched_at"),
        fields=fields,
        paragraphs=paragraphs,
    )


def _inline(old: str, new: str, chinese: bool) -> list[Change]:
    """One paragraph's edit: by character for Chinese, by word (and space) otherwise."""
    a = list(old) if chinese else _WORDS.findall(old)
    b = list(new) if chinese else _WORDS.findall(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [
        Change(op, "".join(a[a1:a2]), "".join(b[b1:b2]))
        for op, a1, a2, b1, b2 in matcher.get_opcodes()
    ]


def _marked(change: Change) -> str:
    if change.op == "equal":
        return change.old
    gone = f"[-{change.old}-]" if change.old else ""
    added = f"{{+{change.new}+}}" if change.new else ""
    return gone + added
