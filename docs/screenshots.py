"""The README's screenshots of the web reader, taken in headless Chromium.

    python docs/screenshots.py [--out docs]

Builds the demo archive in a temporary folder (two demo runs: one article edited, one
removed), starts `newsarchive serve` on a free port, and saves the home page and the edited
article's page (text, versions, diff) as PNG files. Nothing else is written. Chinese text
needs a CJK font for Chromium: `apt-get install fonts-noto-cjk`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.s3server import free_ports  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PAGES = {"reader-home.png": "/", "reader-article.png": "/articles/62202518-zh-CN"}


def newsarchive(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "--config", str(config), *args],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main() -> int:
    from playwright.sync_api import sync_playwright

    options = argparse.ArgumentParser()
    options.add_argument("--out", type=Path, default=ROOT / "docs")
    out = options.parse_args().out
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = work / "demo.toml"
        config.write_text(
            f'[archive]\nlocation = "{work / "archive"}"\nspool_dir = "{work / "spool"}"\n'
            f'[crawl]\nlock_dir = "{work / "locks"}"\n'
        )
        for _ in range(2):
            if newsarchive(config, "demo").wait(timeout=300) != 0:
                raise SystemExit("newsarchive demo failed")
        (port,) = free_ports(1)
        server = newsarchive(config, "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/api/runs", timeout=5).read()
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                for name, path in PAGES.items():
                    page.goto(base + path)
                    page.screenshot(path=str(out / name), full_page=False)
                    print(out / name)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
