"""Edits and deletions: archived articles revisited at their ages, versions kept, removals
marked, returns noticed, diffs shown. Against a mirror that edits and deletes pages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.mirror.fixtures import FIXTURES_DIR, iter_fixtures, load_fixture
from crawler.mirror.server import MirrorServer, Route, fixture_routes
from pipelines.state.revisits import RevisitPolicy, due_revisits, parse_age
from tests.support.commands import newsarchive
from tests.support.configs import mirror_config as write_mirror_config
from tests.support.s3server import WeedMini
from tests.support.warcs import record_at

FUTU_EN = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")
TENCENT = load_fixture(FIXTURES_DIR / "tencent" / "current-window-data")
TENCENT_GBK = load_fixture(FIXTURES_DIR / "tencent" / "gb2312-2016")
WAF = load_fixture(FIXTURES_DIR / "futu" / "waf-challenge")
FUTU_ID, TENCENT_ID = "41283375-en", "20251016A07W8J00"
EDIT_FROM = b"Twelve years ago, after Tmall"
EDIT_TO = b"Twelve years ago, long after Tmall"


# --- the schedule (pure) ---------------------------------------------------------------

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
POLICY = RevisitPolicy((timedelta(hours=2), timedelta(days=1), timedelta(days=7)), 10, 14)


def parsed(page_id: str, at: datetime, published: datetime, **extra: object) -> dict[str, object]:
    return {
        "id": page_id,
        "url": f"https://x/{page_id}",
        "outcome": "parsed",
        "at": at.isoformat(),
        "published": published.isoformat(),
        **extra,
    }


def revisit_line(page_id: str, at: datetime, outcome: str, start: datetime) -> dict[str, object]:
    return {
        "id": page_id,
        "url": f"https://x/{page_id}",
        "outcome": outcome,
        "revisit": True,
        "at": at.isoformat(),
        "start": start.isoformat(),
    }


def test_an_article_is_due_once_per_age_crossed_since_its_last_fetch() -> None:
    first = [parsed("a", T0 + timedelta(minutes=30), T0, etag='"e1"')]
    assert due_revisits(first, POLICY, T0 + timedelta(hours=1)) == []
    (due,) = due_revisits(first, POLICY, T0 + timedelta(hours=3))
    assert due.owed_since == T0 + timedelta(hours=2) and due.etag == '"e1"'
    after_2h = [*first, revisit_line("a", T0 + timedelta(hours=3), "not_modified", T0)]
    assert due_revisits(after_2h, POLICY, T0 + timedelta(hours=20)) == []
    assert len(due_revisits(after_2h, POLICY, T0 + timedelta(days=1, hours=1))) == 1
    after_7d = [*after_2h, revisit_line("a", T0 + timedelta(days=7, hours=1), "parsed", T0)]
    assert due_revisits(after_7d, POLICY, T0 + timedelta(days=9)) == []  # none after the last


def test_a_failed_revisit_stays_due_and_a_removal_is_remembered() -> None:
    first = [parsed("a", T0 + timedelta(minutes=30), T0)]
    failed = [*first, revisit_line("a", T0 + timedelta(hours=3), "server_error", T0)]
    assert len(due_revisits(failed, POLICY, T0 + timedelta(hours=4))) == 1
    gone = [*first, revisit_line("a", T0 + timedelta(hours=3), "removed", T0)]
    (due,) = due_revisits(gone, POLICY, T0 + timedelta(days=2))
    assert due.removed


def test_late_archived_articles_start_their_schedule_at_the_first_fetch() -> None:
    old = datetime(2024, 5, 8, tzinfo=UTC)
    first = [parsed("old", T0, old)]
    (due,) = due_revisits(first, POLICY, T0 + timedelta(hours=2, minutes=1))
    assert due.start == T0


def test_the_budget_takes_the_oldest_debt_first() -> None:
    lines = [
        parsed("newer", T0 + timedelta(hours=1), T0 + timedelta(hours=1)),
        parsed("older", T0 + timedelta(minutes=5), T0),
    ]
    small = RevisitPolicy(POLICY.ages, 1, 14)
    assert [d.page_id for d in due_revisits(lines, small, T0 + timedelta(hours=4))] == ["older"]


@pytest.mark.parametrize("text", ["2", "two hours", "3y", ""])
def test_ages_must_have_a_unit(text: str) -> None:
    with pytest.raises(ValueError, match="like 2h"):
        parse_age(text)


def test_bad_revisit_ages_in_the_config_exit_2(tmp_path: Path, mirror: MirrorServer) -> None:
    config = write_mirror_config(tmp_path / "c.toml", mirror, tmp_path / "archive")
    config.write_text(config.read_text() + '\n[revisit]\nages = ["2 hours"]\n')
    result = newsarchive("--config", str(config), "ls")
    assert result.returncode == 2
    assert "setting 'revisit.ages'" in result.stderr and "Traceback" not in result.stderr


# --- against a mirror that edits and deletes ---------------------------------------------


@pytest.fixture
def site() -> Iterator[MirrorServer]:
    """A mirror of its own: these tests edit and delete its pages."""
    with MirrorServer(fixture_routes(iter_fixtures())) as server:
        yield server


def revisit_config(tmp_path: Path, mirror: MirrorServer, ages: str, budget: int = 50) -> Path:
    config = write_mirror_config(tmp_path / "newsarchive.toml", mirror, tmp_path / "archive")
    config.write_text(config.read_text() + f"\n[revisit]\nages = {ages}\nbudget = {budget}\n")
    return config


def run(config: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = newsarchive("--config", str(config), *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result.stdout


def revisits(stdout: str, name: str) -> dict[str, int]:
    """The `<site>: revisited N (unchanged U, changed C, removed R, returned T)` line."""
    for line in stdout.splitlines():
        if line.startswith(f"{name}: revisited "):
            head, _, rest = line.partition(" (")
            counts = {"revisited": int(head.rsplit(" ", 1)[1])}
            for part in rest.rstrip(")").split(", "):
                key, value = part.rsplit(" ", 1)
                counts[key] = int(value)
            return counts
    return {"revisited": 0}


def files(root: Path) -> dict[str, Path]:
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".tmp" not in p.parts
    }


def articles_and_markers(root: Path) -> set[str]:
    return {k for k in files(root) if k.startswith(("articles/", "text/", "raw/", "removed/"))}


def test_an_edit_gives_a_new_version_and_a_deletion_a_marker_that_keeps_v1(
    tmp_path: Path, site: MirrorServer
) -> None:
    archive = tmp_path / "archive"
    config = revisit_config(tmp_path, site, '["1s", "1h"]')
    run(config, "crawl", "--url", FUTU_EN.url, "--url", TENCENT.url)
    first_text = (archive / "text/futu/2024/05/08/41283375-en.txt").read_text()
    time.sleep(1.2)
    site.edit(FUTU_EN.url, EDIT_FROM, EDIT_TO)
    site.delete(TENCENT.url)  # 404

    out = run(config, "crawl", "--revisit-only")
    assert revisits(out, "futu") == {
        "revisited": 1,
        "unchanged": 0,
        "changed": 1,
        "removed": 0,
        "returned": 0,
    }
    assert revisits(out, "tencent")["removed"] == 1
    stored = files(archive)
    v2 = json.loads(stored["articles/futu/2024/05/08/41283375-en.v2.json"].read_text())
    assert v2["version"] == 2 and "text" in v2["changed_fields"] and v2["seen_at"]
    assert "long after Tmall" in v2["text"]
    assert stored["text/futu/2024/05/08/41283375-en.txt"].read_text() == first_text  # v1 kept

    diff = newsarchive("--config", str(config), "diff", FUTU_ID, "--json")
    assert diff.returncode == 0, diff.stderr
    changes = json.loads(diff.stdout)
    assert changes["from"] == 1 and changes["to"] == 2 and changes["changed_fields"] == ["text"]
    edits = [c for paragraph in changes["text"] for c in paragraph if c["op"] != "equal"]
    assert edits == [{"op": "insert", "old": "", "new": " long"}]  # word-level, exactly the edit
    readable = run(config, "diff", FUTU_ID)
    assert "Twelve years ago,{+ long+} after Tmall" in readable

    (marker_key,) = [k for k in stored if k.startswith(f"removed/tencent/{TENCENT_ID}/")]
    marker = json.loads(stored[marker_key].read_text())
    assert marker["event"] == "removed" and marker["http_status"] == 404
    assert marker["first_seen_gone"] and marker["detail"] == "HTTP 404"
    evidence = marker["warc"]  # the page as served, kept
    served = record_at(archive, evidence["key"], evidence["offset"], evidence["length"])
    assert served.http_headers.get_statuscode() == "404"
    shown = run(config, "show", TENCENT_ID)
    assert "version 1 of 1" in shown and "REMOVED by the site: first seen gone" in shown
    assert run(config, "show", TENCENT_ID, "--text").strip()  # v1 still readable
    listed = run(config, "ls")
    assert f"{TENCENT_ID}  " in listed and "[removed]" in listed
    assert TENCENT_ID in run(config, "ls", "--removed") and FUTU_ID not in run(
        config, "ls", "--removed"
    )
    assert FUTU_ID in run(config, "ls", "--changed") and TENCENT_ID not in run(
        config, "ls", "--changed"
    )

    reports = [json.loads(p.read_text()) for k, p in stored.items() if k.startswith("runs/")]
    (report,) = [r for r in reports if r["mode"] == "revisits"]
    assert report["sites"]["futu"]["revisits"]["changed"] == 1

    # The last age is an hour away: nothing is revisited now.
    again = run(config, "crawl", "--revisit-only")
    assert (
        revisits(again, "futu")["revisited"] == 0 and revisits(again, "tencent")["revisited"] == 0
    )


def test_an_article_that_comes_back_gets_a_new_version_and_a_returned_marker(
    tmp_path: Path, site: MirrorServer
) -> None:
    archive = tmp_path / "archive"
    config = revisit_config(tmp_path, site, '["1s", "10s"]')
    run(config, "crawl", "--url", TENCENT.url)
    archived = time.monotonic()  # the schedule starts no later than the crawl's end
    time.sleep(1.2)
    page = site.delete(TENCENT.url)
    assert revisits(run(config, "crawl", "--revisit-only"), "tencent")["removed"] == 1
    site.restore(TENCENT.url, page)
    # past the second age, counted from when the first crawl ended: on a busy machine that
    # crawl alone can take seconds
    time.sleep(max(0.0, archived + 10.5 - time.monotonic()))
    out = run(config, "crawl", "--revisit-only")
    assert revisits(out, "tencent")["returned"] == 1
    stored = files(archive)
    returned = [k for k in stored if k.startswith("removed/") and k.endswith(".returned.json")]
    (marker,) = [json.loads(stored[k].read_text()) for k in returned]
    assert marker["version"] == 2 and marker["returned_at"]
    assert f"articles/tencent/2025/10/16/{TENCENT_ID}.v2.json" in stored
    assert "returned" in run(config, "show", TENCENT_ID)
    assert "[removed]" not in run(config, "ls")


def test_an_unchanged_page_answers_304_and_nothing_but_bookkeeping_is_written(
    tmp_path: Path, site: MirrorServer
) -> None:
    archive = tmp_path / "archive"
    config = revisit_config(tmp_path, site, '["1s"]')
    run(config, "crawl", "--url", TENCENT.url)
    before = articles_and_markers(archive)
    catalog_before = {k for k in files(archive) if k.startswith("catalog/")}
    time.sleep(1.2)
    out = run(config, "crawl", "--revisit-only")
    assert revisits(out, "tencent") == {
        "revisited": 1,
        "unchanged": 1,
        "changed": 0,
        "removed": 0,
        "returned": 0,
    }
    conditional = [h for p, h, _ in site.request_log if TENCENT_ID in p and "if-none-match" in h]
    assert len(conditional) == 1
    assert articles_and_markers(archive) == before  # no article object, no marker
    new = set(files(archive))
    assert {k for k in new if k.startswith("catalog/")} == catalog_before  # no commit
    assert all(
        k.startswith(
            ("articles/", "text/", "index/", "daily/", "runs/", "state/", "warc/", "catalog/")
        )
        for k in new
    )


def test_the_budget_revisits_the_oldest_debt_first_and_urls_runs_do_not_revisit(
    tmp_path: Path, site: MirrorServer
) -> None:
    config = revisit_config(tmp_path, site, '["1s"]', budget=1)
    run(config, "crawl", "--url", TENCENT_GBK.url)
    time.sleep(0.3)
    run(config, "crawl", "--url", TENCENT.url)
    time.sleep(1.2)
    manual = run(config, "crawl", "--url", FUTU_EN.url)  # a manual run: no revisits
    assert revisits(manual, "tencent")["revisited"] == 0
    first = run(config, "crawl", "--revisit-only", "--site", "tencent")
    assert revisits(first, "tencent")["revisited"] == 1
    asked = [p for p, h, _ in site.request_log if "if-none-match" in h]
    assert asked == ["/news.qq.com/a/20160907/003042.htm"]  # the older debt went first
    second = run(config, "crawl", "--revisit-only", "--site", "tencent")
    assert revisits(second, "tencent")["revisited"] == 1
    third = run(config, "crawl", "--revisit-only", "--site", "tencent")
    assert revisits(third, "tencent")["revisited"] == 0


def test_a_503_or_a_challenge_is_never_taken_for_a_removal(
    tmp_path: Path, site: MirrorServer
) -> None:
    archive = tmp_path / "archive"
    config = revisit_config(tmp_path, site, '["1s"]')
    run(config, "crawl", "--url", FUTU_EN.url, "--url", TENCENT.url)
    time.sleep(1.2)
    futu_page = site.delete(FUTU_EN.url, Route(WAF.status, WAF.headers, WAF.body))
    tencent_page = site.delete(TENCENT.url, Route(503, {"Content-Type": "text/plain"}, b"busy"))
    result = newsarchive("--config", str(config), "crawl", "--revisit-only")
    assert result.returncode == 1  # the failures are reported
    assert revisits(result.stdout, "futu")["removed"] == 0
    assert revisits(result.stdout, "tencent")["removed"] == 0
    assert not [k for k in files(archive) if k.startswith("removed/")]
    site.restore(FUTU_EN.url, futu_page)
    site.restore(TENCENT.url, tencent_page)
    out = run(config, "crawl", "--revisit-only")  # still owed: revisited again, unchanged
    assert revisits(out, "futu")["unchanged"] == 1 and revisits(out, "tencent")["unchanged"] == 1


def test_edits_and_deletions_on_s3(
    tmp_path: Path, site: MirrorServer, weed: WeedMini, bucket: str
) -> None:
    from tests.test_s3_archive import s3_config

    config = s3_config(tmp_path, site, bucket)
    config.write_text(config.read_text() + '\n[revisit]\nages = ["1s"]\n')
    env = weed.env()
    run(config, "crawl", "--url", FUTU_EN.url, "--url", TENCENT.url, env=env)
    time.sleep(1.2)
    site.edit(FUTU_EN.url, EDIT_FROM, EDIT_TO)
    site.delete(TENCENT.url)
    out = run(config, "crawl", "--revisit-only", env=env)
    assert revisits(out, "futu")["changed"] == 1 and revisits(out, "tencent")["removed"] == 1
    keys = [o["Key"] for o in weed.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert "news/articles/futu/2024/05/08/41283375-en.v2.json" in keys
    assert [k for k in keys if k.startswith(f"news/removed/tencent/{TENCENT_ID}/")]
    assert "{+ long+}" in run(config, "diff", FUTU_ID, env=env)
    assert "[removed]" in run(config, "ls", "--removed", env=env)
    shown = newsarchive("--config", str(config), "show", TENCENT_ID, "--raw", env=env)
    assert shown.returncode == 0 and shown.stdout == TENCENT.body.decode()  # v1 as served


DELETED_PAGE = load_fixture(FIXTURES_DIR / "futu" / "deleted-article")


@pytest.mark.parametrize("answer", ["410", "deleted page", "redirect home"])
def test_each_way_a_site_says_gone_is_a_removal(
    tmp_path: Path, site: MirrorServer, answer: str
) -> None:
    archive = tmp_path / "archive"
    config = revisit_config(tmp_path, site, '["1s"]')
    run(config, "crawl", "--url", FUTU_EN.url)
    time.sleep(1.2)
    home = f"{site.url}/news.futunn.com/"
    front = b"<html><body><h1>Futu News</h1></body></html>"
    site.routes["/news.futunn.com/"] = Route(200, {"Content-Type": "text/html"}, front)
    gone = {
        "410": Route(410, {"Content-Type": "text/html"}, b"gone"),
        "deleted page": Route(200, DELETED_PAGE.headers, DELETED_PAGE.body),
        "redirect home": Route(302, {"Location": home}, b""),
    }[answer]
    site.delete(FUTU_EN.url, gone)
    out = run(config, "crawl", "--revisit-only")
    assert revisits(out, "futu")["removed"] == 1
    (marker_path,) = [p for k, p in files(archive).items() if k.startswith("removed/futu/")]
    marker = json.loads(marker_path.read_text())
    expected = {
        "410": "HTTP 410",
        "deleted page": "Futu says the article does not exist or was deleted",
        "redirect home": f"redirected to {home}",
    }[answer]
    assert marker["detail"].startswith(expected), marker["detail"]
    evidence = marker["warc"]
    page = record_at(archive, evidence["key"], evidence["offset"], evidence["length"])
    assert page.rec_type == "response"  # the page as served is kept


def test_diff_is_word_level_for_english_and_character_level_for_chinese() -> None:
    from pipelines.records.versions import diff_versions

    def record(version: int, language: str, *paragraphs: str) -> dict[str, object]:
        return {
            "site": "s",
            "id": "x",
            "version": version,
            "language": language,
            "paragraphs": list(paragraphs),
            "title": "T",
        }

    english = diff_versions(
        record(1, "en", "Prices rose sharply today."), record(2, "en", "Prices fell sharply today.")
    )
    assert [(c.op, c.old, c.new) for c in english.paragraphs[0] if c.op != "equal"] == [
        ("replace", "rose", "fell")
    ]
    chinese = diff_versions(
        record(1, "zh-CN", "阿里巴巴股价上涨"), record(2, "zh-CN", "阿里巴巴股价下跌")
    )
    assert [(c.op, c.old, c.new) for c in chinese.paragraphs[0] if c.op != "equal"] == [
        ("replace", "上涨", "下跌")
    ]
    assert "阿里巴巴股价[-上涨-]{+下跌+}" in "\n".join(chinese.lines())
    titled = diff_versions(record(1, "en", "a"), {**record(2, "en", "a"), "title": "U"})
    assert titled.changed_fields == ["title"] and titled.paragraphs == []
