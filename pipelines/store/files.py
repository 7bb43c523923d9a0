"""Durable local files: written whole or not at all, readable as the umask says, and no
temporary file of a dead process left behind.

Everything the archive keeps on a local disk (the local archive, the spool) is written to a
temporary file first, then linked or renamed into place, so a crash never leaves a
half-written file under a real name. `mkstemp` creates files with mode 0600 whatever the
umask; a shared archive folder must be readable by a web server, analysts or a backup user,
so the mode is set from the umask like any file `open()` creates. Temporary names carry the
writer's pid, so the next run removes only the leftovers of processes that are gone.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TMP_PREFIX = ".tmp-"


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_current_umask()


def write_temp(directory: Path, data: bytes) -> Path:
    """`data` in a new temporary file of `directory`, flushed to disk, mode from the umask."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=f"{TMP_PREFIX}{os.getpid()}-")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_dead_temps(directory: Path) -> int:
    """Delete the temporary files in `directory` whose writer no longer runs; how many."""
    removed = 0
    for path in directory.glob(f"{TMP_PREFIX}*"):
        owner = path.name[len(TMP_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not process_alive(int(owner)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
