"""The code base stays ruff-clean (lint and format), checked with the pinned ruff."""

from __future__ import annotations

import subprocess
import sys

from tests.support.commands import REPO


def test_ruff_check_and_format_are_clean() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
