"""Article URLs as users give them and as the spiders fetch them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def rebase_url(base_url: str, canonical: str) -> str:
    """The canonical URL on the configured base (the live site or the local mirror):
    the real origin swapped for the base, path and query kept."""
    base = urlsplit(base_url)
    real = urlsplit(canonical)
    path = base.path.rstrip("/") + real.path
    return urlunsplit((base.scheme, base.netloc, path, real.query, ""))


def read_urls_file(path: str | Path) -> list[str]:
    """One URL per line; blank lines and `#` comments skipped. A file that is not UTF-8 text
    raises ValueError naming it."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file of URLs") from None
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
