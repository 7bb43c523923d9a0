"""What bench/faults.py plays a night with: a mirror whose article paths can fail on cue, a
config per fault, the command run as a user runs it (with a timeout: a hang is "T"), and the
archive read back as ids. The fault table itself, and what each row does, is faults.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crawler.mirror.catalog import Catalog
from crawler.mirror.server import MirrorServer, Route, mirror_path
from crawler.parsers import identify
from tests.support.configs import sites_toml
from tests.support.s3server import WeedMini

ROOT = Path(__file__).resolve().parent.parent

PROBLEMS: list[str] = []  # the PROBLEM lines of the last run, shown under a row
RUN_TIMEOUT = 300  # seconds: a run that takes longer counts as a hang ("T")
BUSY = Route(503, {"Content-Type": "text/plain"}, b"busy")


@dataclass
class Row:
    fault: str
    expected: int
    archived: int = 0
    duplicated: int = 0
    exits: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""
    measured: tuple[int, int] | None = None  # (archived, duplicated) a scenario counted itself
    audits: list[str] = field(default_factory=list)  # `newsarchive verify` exits, per archive

    @property
    def lost(self) -> int:
        return max(self.expected - self.archived, 0)


class Faults:
    """Per-article-path fault injection on top of the catalog's pages."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.attempts: Counter[str] = Counter()
        self.rule: Callable[[str, int], Route | None] = lambda path, attempt: None
        self.paths = {
            mirror_path(identify(catalog.url(i)).url): i.page
            for i in catalog.items
            if i.site == "tencent"
        }

    def handlers(self) -> dict[str, Callable[..., Route]]:
        def serve(path: str) -> Callable[..., Route]:
            def answer(*_: object) -> Route:
                self.attempts[path] += 1
                return self.rule(path, self.attempts[path]) or self.paths[path]

            return answer

        return {**self.catalog.handlers(), **{path: serve(path) for path in self.paths}}


def expected_ids(catalog: Catalog) -> set[str]:
    return {
        identify(catalog.url(i)).id
        for i in catalog.items
        if i.site == "tencent" and i.is_article and i.channel
    }


def write_config(work: Path, mirror: MirrorServer, archive: str, **crawl: object) -> Path:
    values = {
        "download_delay": 0,
        "autothrottle": False,
        "concurrent_requests_per_domain": 8,
        "lock_dir": str(work / "locks"),
        "retry_times": 1,
        **crawl,
    }
    crawl_toml = "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
    s3 = ""
    if archive.startswith("s3://"):
        s3 = 'addressing_style = "path"\nregion = "us-east-1"\nretry_attempts = 2\n'
    path = work / "faults.toml"
    path.write_text(
        f'[archive]\nlocation = "{archive}"\nspool_dir = "{work / "spool"}"\n{s3}'
        f"[crawl]\n{crawl_toml}[retry]\nbackoff_minutes = 0\nmax_attempts = 6\n"
        f"{sites_toml(mirror, {'tencent': {'item_count': 7, 'max_pages': 50}})}",
        encoding="utf-8",
    )
    return path


def newsarchive(config: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run one command; its exit status as text ("T" when it had to be killed)."""
    command = [sys.executable, "-m", "crawler.cli", "--config", str(config), *args]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=_env(env), capture_output=True, timeout=RUN_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return "T"
    PROBLEMS[:] = [line for line in done.stdout.decode().splitlines() if "PROBLEM" in line]
    return str(done.returncode)


def start(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "crawler.cli", "--config", str(config), *args]
    return subprocess.Popen(
        command, cwd=ROOT, env=_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def finish(process: subprocess.Popen[bytes]) -> str:
    try:
        return str(process.wait(timeout=RUN_TIMEOUT))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return "T"


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSARCHIVE_", "AWS_"))}
    return {**base, **(extra or {})}


def archived_ids(work: Path, weed: WeedMini | None, bucket: str | None) -> Counter[str]:
    """How many records each article id has in the archive (local folder or bucket)."""
    if weed is None or bucket is None:
        keys = [
            p.relative_to(work / "archive").as_posix()
            for p in (work / "archive" / "articles").rglob("*.json")
        ]
    else:
        pages = weed.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        keys = [o["Key"].removeprefix("news/") for p in pages for o in p.get("Contents", [])]
    ids = [k.rsplit("/", 1)[1].split(".")[0] for k in keys if k.startswith("articles/tencent/")]
    return Counter(ids)


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], seconds: float = 60
) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
