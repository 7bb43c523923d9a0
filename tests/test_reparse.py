"""`newsarchive reparse`: today's parsers over the archived raw pages, a new version only
where the output changed. An archive written by an older parser is simulated by editing one
stored record the way that parser would have written it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer
from tests.support.commands import newsarchive
from tests.support.configs import discovery_config

FUTU_EN = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")
TENCENT_NOW = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data")
RECORD = "articles/futu/2024/05/08/41283375-en.json"
NOTICE = "The translation is provided by third-party software."


def test_reparse_stores_a_new_version_only_where_the_output_changed(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    config = discovery_config(tmp_path, mirror)
    crawl = newsarchive(
        "--config", str(config), "crawl", "--url", FUTU_EN.url, "--url", TENCENT_NOW.url
    )
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr[-2000:]
    archive = tmp_path / "archive"
    stored = archive / RECORD
    today = json.loads(stored.read_text())
    # What a 0.9 parser wrote: the title kept the site suffix, the translation notice stayed.
    old = dict(today)
    old["title"] = today["title"] + " - Futubull"
    old["text"] = today["text"] + "\n\n" + NOTICE
    old["paragraphs"] = [*today["paragraphs"], NOTICE]
    old["content_sha256"] = hashlib.sha256(old["text"].encode()).hexdigest()
    old["parser_version"] = "0.9.0"
    stored.write_text(json.dumps(old, ensure_ascii=False))

    first = newsarchive("--config", str(config), "reparse")
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.splitlines() == [
        "reparsed 2, new version 1, unchanged 1, failed 0",
        "futu 41283375-en: v1 -> v2 (paragraphs, text, title; parser 0.9.0 -> 1.2.0)",
    ]
    v2 = json.loads((archive / RECORD.replace(".json", ".v2.json")).read_text())
    assert v2["title"] == today["title"] and NOTICE not in v2["text"]
    assert v2["previous_key"] == RECORD and v2["version"] == 2
    assert json.loads(stored.read_text()) == old  # the earlier version is never rewritten
    assert (archive / v2["text_key"]).read_text() == today["text"]  # the hashed bytes

    listed = newsarchive("--config", str(config), "ls", "--site", "futu", "--json")
    (entry,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert entry["version"] == 2 and entry["record_key"] == RECORD.replace(".json", ".v2.json")

    again = newsarchive("--config", str(config), "reparse")
    assert again.stdout.splitlines() == ["reparsed 2, new version 0, unchanged 2, failed 0"]
