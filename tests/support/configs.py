"""Config files for tests: a fresh archive, and every site fetching from the mirror.

The mirror tables come from the site registry (crawler.mirror.catalog.site_tables), so a new
site needs no edit here.
"""

from __future__ import annotations

import json
from pathlib import Path

from crawler.mirror.catalog import site_tables
from crawler.mirror.server import MirrorServer


def toml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def sites_toml(mirror: MirrorServer, extra: dict[str, dict[str, object]] | None = None) -> str:
    """`[sites.<name>]` tables: every base URL on the mirror, plus per-site extra settings."""
    out = []
    for site, table in site_tables(mirror).items():
        values = {**table, **(extra or {}).get(site, {})}
        lines = "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())
        out.append(f"[sites.{site}]\n{lines}")
    return "\n".join(out)


def mirror_config(path: Path, mirror: MirrorServer, archive_dir: Path) -> Path:
    """A config file that crawls the mirror into a fresh local archive."""
    path.write_text(
        f"""
[archive]
location = "{archive_dir}"
spool_dir = "{archive_dir.parent / "spool"}"
[crawl]
download_delay = 0
log_level = "INFO"
lock_dir = "{archive_dir.parent / "locks"}"
{sites_toml(mirror)}""",
        encoding="utf-8",
    )
    return path


def discovery_config(
    tmp_path: Path,
    mirror: MirrorServer,
    crawl: dict[str, object] | None = None,
    retry: dict[str, object] | None = None,
    tencent: dict[str, object] | None = None,
    **futu: object,
) -> Path:
    """A config crawling the mirror; `crawl`, `retry`, `tencent` and `futu` add settings to
    those sections."""
    crawl_values = {"lock_dir": str(tmp_path / "locks"), **(crawl or {})}  # not the checkout's
    crawl_extra = "".join(f"{k} = {toml_value(v)}\n" for k, v in crawl_values.items())
    extra: dict[str, dict[str, object]] = {
        "futu": {"flash_page_size": 4, "max_pages": 50, **futu},
        "tencent": {"item_count": 7, "max_pages": 50, **(tencent or {})},
    }
    path = tmp_path / "discover.toml"
    path.write_text(
        f"""
[archive]
location = "{tmp_path / "archive"}"
spool_dir = "{tmp_path / "spool"}"
[crawl]
download_delay = 0
autothrottle = false
concurrent_requests_per_domain = 8
{crawl_extra}
[retry]
{"".join(f"{k} = {toml_value(v)}" + chr(10) for k, v in (retry or {}).items())}
{sites_toml(mirror, extra)}""",
        encoding="utf-8",
    )
    return path


def records(tmp_path: Path, site: str) -> list[Path]:
    return sorted((tmp_path / "archive" / "articles" / site).rglob("*.json"))


def summary_line(stdout: str, site: str) -> dict[str, int]:
    line = next(x for x in stdout.splitlines() if x.startswith(f"{site}: discovered"))
    pairs = [part.rsplit(" ", 1) for part in line.split(": ", 1)[1].split(", ")]
    return {name.replace(" ", "_"): int(value) for name, value in pairs}


def demo_archive(folder: Path) -> Path:
    """The demo's archive after two runs (one article edited, one removed, as sites do), in
    `folder`; its config."""
    from tests.support.commands import newsarchive

    config = folder / "demo.toml"
    config.write_text(
        f'[archive]\nlocation = "{folder / "archive"}"\nspool_dir = "{folder / "spool"}"\n'
        f'[crawl]\nlock_dir = "{folder / "locks"}"\n',
        encoding="utf-8",
    )
    for _ in range(2):
        run = newsarchive("--config", str(config), "demo")
        assert run.returncode == 0, run.stderr[-3000:]
    return config
