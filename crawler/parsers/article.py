"""The article record every site parser returns, independent of Scrapy and of storage."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Article:
    """One clean article as archived; `paragraphs` keeps the reading order of the page."""

    site: str
    id: str
    url: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    language: str
    parser: str
    parser_version: str
    machine_translated: bool = False
    original_title: str | None = None
    outlet: str | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    summary: str | None = None
    tickers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Clean text as a reader sees it: one paragraph per block, blank line between."""
        return "\n\n".join(self.paragraphs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping; datetimes become ISO-8601 strings with their offset."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["text"] = self.text
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Inverse of `to_dict`, for readers of the archive."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["published"] = datetime.fromisoformat(kwargs["published"])
        for name in ("paragraphs", "tickers", "tags", "images"):
            kwargs[name] = tuple(kwargs.get(name) or ())
        return cls(**kwargs)
