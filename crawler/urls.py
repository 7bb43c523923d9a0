"""Article URLs as users give them and as the spiders fetch them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def rebase_url(base_url: str, canonical: str) -> str:
    """The canonical URL on the configured base (the live site or the local mirror).

    The base's origin stands in for the real one, path and query kept. A page on another
    host of the same site (tech.qq.com beside news.qq.com) keeps its own host: on the live
    site it is fetched there; on a mirror, whose base ends in `/<real host>`, under that
    host's folder (`<mirror>/tech.qq.com/a/...`).
    """
    base = urlsplit(base_url)
    real = urlsplit(canonical)
    prefix = base.path.rstrip("/")
    folder, _, last = prefix.rpartition("/")
    if "." in last:  # a mirror: the real host is the base's last folder
        if last != real.netloc:
            prefix = f"{folder}/{real.netloc}"
        return urlunsplit((base.scheme, base.netloc, prefix + real.path, real.query, ""))
    if real.netloc != base.netloc and _same_site(real.netloc, base.netloc):
        return urlunsplit((real.scheme, real.netloc, real.path, real.query, ""))
    return urlunsplit((base.scheme, base.netloc, prefix + real.path, real.query, ""))


def _same_site(host: str, other: str) -> bool:
    """Two hosts under one registrable domain (the last two labels: qq.com, futunn.com)."""
    return host.split(".")[-2:] == other.split(".")[-2:]


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
