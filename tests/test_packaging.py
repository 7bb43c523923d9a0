"""An installed newsarchive works away from the checkout: the demo pages ship in the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.support.commands import REPO, run


def test_pip_install_then_demo_from_an_empty_folder(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # The dependencies come from this interpreter's site-packages (a path file names them:
    # `--system-site-packages` would give the base interpreter's, not those of the virtualenv
    # the suite runs in); the project is installed from a built wheel (not editable), so
    # nothing of the checkout is on its path.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    venv_python = venv / "bin" / "python"
    own_site = run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    )
    ours = sysconfig.get_paths()
    lines = dict.fromkeys([ours["purelib"], ours["platlib"]])
    (Path(own_site.stdout.strip()) / "suite-dependencies.pth").write_text("\n".join(lines) + "\n")
    # Built from a copy of the tracked files: a build in the checkout would leave build/ there,
    # and a stale build/lib could slip removed modules into the wheel.
    tracked = run(["git", "ls-files"]).stdout.splitlines()
    source = tmp_path / "source"
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    # pip itself trips over the suite's DeprecationWarning-as-error setting: not ours to fix.
    pip = [str(venv / "bin" / "pip"), "install", "--no-deps", str(source)]
    installed = run(pip, env={"PYTHONWARNINGS": "default"})
    assert installed.returncode == 0, installed.stderr[-3000:]
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    located = run(
        [str(venv / "bin" / "python"), "-c", "import crawler; print(crawler.__file__)"], cwd=empty
    )
    assert str(venv) in located.stdout, located.stdout + located.stderr
    demo = run([str(venv / "bin" / "newsarchive"), "demo"], cwd=empty)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "futu: discovered" in demo.stdout and "tencent: discovered" in demo.stdout
    assert "$ newsarchive ls   (newest 5 of 12)" in demo.stdout
    assert len(list((empty / "archive" / "articles").rglob("*.json"))) == 12
