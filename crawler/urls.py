"""Mapping real article URLs onto the configured base URL (the live site or the local mirror)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def fetch_url(base_url: str, canonical: str) -> str:
    """Swap the real site's origin for the configured base, keeping path and query."""
    base = urlsplit(base_url)
    real = urlsplit(canonical)
    path = base.path.rstrip("/") + real.path
    return urlunsplit((base.scheme, base.netloc, path, real.query, ""))
