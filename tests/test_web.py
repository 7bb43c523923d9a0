"""The web reader (`newsarchive serve`), over the demo archive after two runs (one edited and
one removed article), through HTTP and in a real headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from crawler.mirror.server import MirrorServer
from tests.support.commands import newsarchive, user_env
from tests.support.configs import demo_archive
from tests.support.s3server import WeedMini, free_ports

CHROMIUM = "/usr/bin/chromium"
CHIP_URL = "https://news.futunn.com/post/62202518"
EDITED = "62202518-zh-CN"  # the demo's second run finds it edited (96GB -> 128GB)
REMOVED = "20251016A07W8J00"  # ... and this one deleted


GENERIC = "flash-16701234-zh-CN"  # futu/flash-text-moved: archived with generic text


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_archive(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def server(demo_config: Path) -> Iterator[str]:
    yield from serving(demo_config)


def serving(config: Path, env: dict[str, str] | None = None) -> Generator[str, None, None]:
    """`newsarchive serve` on a free port until the caller is done; its base URL."""
    (port,) = free_ports(1)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "--config",
            str(config),
            "serve",
            "--port",
            str(port),
        ],
        env=user_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/runs", timeout=5).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"serve did not start: {process.communicate()[1]}") from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=10)  # closes its pipes too


def get(base: str, path: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(base + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def q(text: str) -> str:
    return urllib.parse.quote(text)


def test_pages_and_their_json_twins(server: str) -> None:
    status, headers, body = get(server, "/")
    assert status == 200 and "Articles per day" in body and REMOVED in body
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none'
    status, _, body = get(server, f"/search?q={q('芯片')}")
    assert status == 200 and "<mark>芯片</mark>" in body
    status, _, body = get(server, f"/api/search?q={q('芯片')}&site=futu")
    assert status == 200 and [hit["id"] for hit in json.loads(body)] == [EDITED]
    status, _, body = get(server, f"/api/articles/{EDITED}")
    data = json.loads(body)
    assert (
        status == 200 and len(data["versions"]) == 2 and data["diff"]["changed_fields"] == ["text"]
    )
    status, _, body = get(server, "/api/articles?site=tencent")
    rows = json.loads(body)
    assert status == 200 and {r["id"]: r["removed"] for r in rows}[REMOVED] is True
    status, _, body = get(server, "/api/runs")
    assert status == 200 and len(json.loads(body)) == 2
    status, _, body = get(server, "/runs")
    assert status == 200 and body.count('class="run"') == 2 and "<svg" in body
    # the demo's deliberate failures are findings like a real night's (crawler/health/monitors.py)
    assert 'class="finding warning">tencent: warning: parse_errors: 1 of' in body
    status, _, body = get(server, f"/?ticker={q('BABA.US')}")
    assert status == 200 and EDITED in body
    # the demo's page in no known layout: its generic text is labelled in lists, page, search
    status, _, body = get(server, "/?site=futu")
    assert status == 200 and body.count('class="tag generic"') == 1
    status, _, body = get(server, f"/articles/{GENERIC}?site=futu")
    tried = "futu.article/origin-content-2022"
    assert status == 200 and f"generic text (no known layout: tried {tried})" in body
    status, _, body = get(server, f"/api/search?q={q('伦铜')}")
    assert status == 200 and [h["extraction"] for h in json.loads(body)] == ["generic"]
    status, _, body = get(server, f"/search?q={q('伦铜')}")
    assert status == 200 and 'class="tag generic">generic text' in body


def test_the_page_as_served_is_plain_text_in_a_sandbox(server: str) -> None:
    status, headers, body = get(server, f"/articles/{EDITED}/raw")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("sandbox")
    assert "<script" in body  # the site's own scripts, shown as text, never run
    status, headers, body = get(server, f"/articles/{EDITED}/record.json?version=1")
    assert status == 200 and json.loads(body)["version"] == 1


def test_strings_are_escaped_and_bad_input_is_a_400_or_404_page(server: str) -> None:
    status, _, body = get(server, f"/search?q={q('<script>alert(1)</script> 芯片')}")
    assert status == 200 and "<script>alert(1)" not in body and "&lt;script&gt;" in body
    for path, expected in [
        ("/articles/no-such-id", 404),
        ("/?since=yesterday", 400),
        ("/?site=nowhere", 400),
        ("/search?q=***", 400),
        ("/api/search", 400),
        ("/?limit=-3", 400),
        ("/nowhere", 404),
        ("/api/articles/no-such-id", 404),
    ]:
        status, _, body = get(server, path)
        assert status == expected, path
        assert "Traceback" not in body
    status, _, _ = get(server, "/", method="POST")
    assert status == 405  # no write endpoint


def test_a_reader_in_chromium_searches_opens_a_hit_and_sees_its_diff(server: str) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server + "/", timeout=30_000)
            assert "Articles per day" in page.content()
            # The per-day table lists the days with articles, not a month of mostly zeros.
            for row in page.locator("table").nth(1).locator("tr").all()[1:]:
                figures = [int(x) for x in row.locator("td.n").all_inner_texts()]
                assert sum(figures) > 0, row.inner_text()
            # Titles carry their language; times are Beijing time, to the second.
            assert page.locator("a[lang='zh-HK']").count() > 0
            assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Beijing", page.content())
            page.fill("header input[name=q]", "芯片")
            page.click("header button")
            page.wait_for_selector(".hit", timeout=30_000)
            assert page.locator("mark").first.inner_text() == "芯片"
            page.click(f"a.hit-title[href^='/articles/{EDITED}']")
            page.wait_for_selector("article .text p", timeout=30_000)
            assert page.locator("html").get_attribute("lang") == "en"  # the reader's own words
            assert page.locator("article").get_attribute("lang") == "zh-CN"  # the article's
            published = page.locator("article p.meta span").first.inner_text()
            assert re.fullmatch(r"published \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Beijing", published)
            text = page.locator("article .text").inner_text()
            assert "128GB HBM2e" in text
            diff = page.locator(".diff").inner_text()
            assert page.locator(".diff del").first.inner_text() == "96"
            assert page.locator(".diff ins").first.inner_text() == "128" and "HBM2e" in diff
            page.goto(server + f"/articles/{REMOVED}", timeout=30_000)
            assert "Removed by the site" in page.locator(".removal").inner_text()
            page.click("text=Runs")
            page.wait_for_selector("tr.run", timeout=30_000)
            assert page.locator("tr.run").count() == 2
            chart = page.locator("svg[role=img]")
            labels = chart.locator("text").all_text_contents()
            assert labels[:2] == ["12", "0"]  # the axis: from 0 to the biggest run (12 new)
            assert "12" in labels[2:] and "1" in labels[2:]  # each bar's figure
            assert all(label.endswith(" UTC") for label in labels[-2:])  # first and last run
        finally:
            browser.close()
    assert errors == []


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(demo_config: Path, server: str) -> None:
    port = server.rsplit(":", 1)[1]
    result = newsarchive("--config", str(demo_config), "serve", "--port", port)
    assert result.returncode == 2
    assert result.stderr.strip() == f"newsarchive: cannot serve on 127.0.0.1:{port}: already in use"


def test_the_reader_works_on_an_s3_archive(
    tmp_path: Path, mirror: MirrorServer, weed: WeedMini, bucket: str
) -> None:
    from tests.test_s3_archive import s3_config

    config = s3_config(tmp_path, mirror, bucket)
    env = weed.env()
    crawled = newsarchive("--config", str(config), "crawl", "--url", CHIP_URL, env=env)
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    assert newsarchive("--config", str(config), "index", env=env).returncode == 0
    running = serving(config, env)
    base = next(running)
    try:
        status, _, body = get(base, "/api/articles")
        assert status == 200 and [row["id"] for row in json.loads(body)] == [EDITED]
        status, _, body = get(base, f"/search?q={q('芯片')}")
        assert status == 200 and "<mark>芯片</mark>" in body
        status, _, body = get(base, f"/articles/{EDITED}/raw")
        assert status == 200 and "HBM2e" in body
    finally:
        running.close()
