"""Running `newsarchive` and `scrapy` as a user would: from the repository root, in a child."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def user_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without NEWSARCHIVE_* settings, plus the test's own variables."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    return {**inherited, "PYTHONWARNINGS": "error::DeprecationWarning", **(env or {})}


def run(
    args: list[str], env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """Run a command (from the repository root unless told), capturing its output."""
    return subprocess.run(
        args, cwd=cwd, env=user_env(env), capture_output=True, text=True, timeout=120, check=False
    )


def start_newsarchive(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `newsarchive ...` in the background (for tests that interrupt a running crawl)."""
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=REPO,
        env=user_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def scrapy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "scrapy", *args], env=env)


def newsarchive(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "crawler.cli", *args], env=env)


def finish(
    workers: list[subprocess.Popen[str]], timeout: float = 150, expect: int | None = 0
) -> list[str]:
    """Each worker's output once it exited `expect` (None: the caller checks; all are
    stopped whatever happens)."""
    outputs = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=timeout)
            outputs.append(out + err)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate(timeout=30)
    for worker, output in zip(workers, outputs, strict=True):
        assert expect is None or worker.returncode == expect, output[-3000:]
    return outputs
