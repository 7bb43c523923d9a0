"""One crawl per site at a time, whoever starts it (cron, the scheduler, a person).

An advisory `flock` on `<lock_dir>/<site>.lock`: the kernel drops it when the holder exits,
even on SIGKILL, so a crashed crawl never leaves a stale lock behind. The file holds the
holder's pid and start time, for the message the second crawl prints.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


class SiteLock:
    """The lock of one site's crawl."""

    def __init__(self, directory: str | Path, site: str) -> None:
        self.path = Path(directory) / f"{site}.lock"
        self.site = site
        self._handle: IO[str] | None = None

    @staticmethod
    def check_folder(directory: str | Path) -> None:
        """The lock folder exists or can be made, and takes a file (OSError if not)."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        handle.flush()
        self._handle = handle
        return True

    def holder(self) -> str:
        """Who holds the lock, as its file says ('unknown' if it says nothing)."""
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
