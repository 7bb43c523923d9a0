"""Filling the past from a web archive: `newsarchive crawl --from wayback`, against a real
pywb (the CDX server the Wayback Machine's API and Common Crawl's index follow) on 127.0.0.1,
over a WARC file this test writes from the fixtures at the sites' real URLs.

The captures go through the same parser and archive as crawled pages; the record says where
the bytes came from and when they were captured; nothing is asked of the news site itself.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from crawler.frontier.queue import Frontier, connect
from crawler.frontier.seeder import Seeder
from crawler.mirror.fixtures import Fixture, iter_fixtures
from crawler.mirror.server import MirrorServer, Route, fixture_routes
from crawler.parsers import identify
from crawler.sites import SITES
from crawler.webarchive.cdx import (
    Capture,
    CaptureBook,
    cdx_query,
    choose,
    page_count,
    parse_cdx,
)
from pipelines.state import ArchiveState
from pipelines.store import LocalStore
from tests.support.commands import finish, newsarchive, scrapy, start_newsarchive
from tests.support.configs import mirror_config, records, summary_line, toml_value
from tests.support.pywb import (
    as_zipnum_cluster,
    collection,
    session_pywb,
    wayback,
    write_captures,
)
from tests.support.redisserver import RedisServer
from tests.support.warcs import record_at

POSTS = [
    f for f in iter_fixtures(site="futu") if f.read_by_layout and identify(f.url).kind == "post"
]
EDITED = POSTS[0]
GONE_URL = "https://news.futunn.com/post/55509999"
OLD_URL = "https://news.futunn.com/post/55508888"  # captured before the range asked for
MOVED_URL = "https://news.futunn.com/post/55507777"  # its only capture: a redirect
IN_RANGE = datetime(2024, 3, 5, 2, 0, tzinfo=UTC)


def canonical(fixture: Fixture) -> str:
    return identify(fixture.url).url


def captures() -> list[tuple[str, datetime, int, dict[str, str], bytes]]:
    """Every post fixture captured in March 2024; the first also a day earlier with other
    text (the newest good capture wins); a deleted page's 404; a post from 2022."""
    headers = {"Content-Type": "text/html; charset=utf-8", "Server": "nginx"}
    out = [
        (canonical(f), IN_RANGE.replace(minute=i), 200, f.headers or headers, f.body)
        for i, f in enumerate(POSTS)
    ]
    older = EDITED.body.replace(b"<h1", b"<h1 data-older='1'", 1).replace(b"</p>", b"!</p>", 1)
    out.append((canonical(EDITED), IN_RANGE.replace(day=4), 200, headers, older))
    out.append((GONE_URL, IN_RANGE.replace(day=6), 404, headers, b"<html>404</html>"))
    out.append((OLD_URL, datetime(2022, 5, 1, tzinfo=UTC), 200, headers, POSTS[1].body))
    moved = {**headers, "Location": canonical(POSTS[1])}
    out.append((MOVED_URL, IN_RANGE.replace(day=7), 302, moved, b""))
    return out


@pytest.fixture(scope="module")
def archive_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """pywb serving the captures as collection `web` (a Wayback Machine: CDX API and replay)
    and as `cc` (a Common Crawl index, whose WARC file the data host serves by range)."""
    root = tmp_path_factory.mktemp("pywb-root")
    pywb = session_pywb(tmp_path_factory)
    collection(pywb, root, "web", write_captures(root / "captures.warc.gz", captures()))
    collection(pywb, root, "cc", write_captures(root / "cc-captures.warc.gz", captures()))
    for name in ("web", "cc"):  # indexed as the real services are: paging works as theirs
        assert as_zipnum_cluster(root, name, lines_per_block=2) > 3
    # and an index that does not page (a plain .cdxj): it answers showNumPages with captures
    collection(pywb, root, "plain", write_captures(root / "plain.warc.gz", captures()))
    with wayback(pywb, root) as base:
        yield base, root


def history_config(tmp_path: Path, site: MirrorServer, **history: object) -> Path:
    """The mirror config with a `[history]` section of `history`, CDX pages one index block
    each (the test indexes are small)."""
    config = mirror_config(tmp_path / "newsarchive.toml", site, tmp_path / "archive")
    values = {"cdx_page_size": 1, **history}
    with config.open("a", encoding="utf-8") as handle:
        handle.write(
            "\n[history]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())
        )
    return config


def wayback_at(base: str, cdx: str = "", replay: str = "", rate: float = 50) -> dict[str, object]:
    """`[history]` for the Wayback Machine at `base` (its CDX API at `cdx`, its replay at
    `replay` if given), asked `rate` times a second."""
    return {
        "wayback_cdx": cdx or f"{base}/web/cdx",
        "wayback_replay": replay or f"{base}/web",
        "wayback_rate": rate,
    }


class _AsAnswered(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None  # a redirect capture goes back to the crawler as it is


def replay_front(base: str, asked: list[float]) -> Callable[[str], Route]:
    """A front for pywb's replay that notes when each replay is asked for."""
    opener = urllib.request.build_opener(_AsAnswered)
    passed = ("content-type", "location", "memento-datetime")

    def answer(path: str) -> Route:
        asked.append(time.monotonic())
        try:
            with opener.open(f"{base}{path}", timeout=30) as reply:
                status, headers, body = reply.status, reply.headers, reply.read()
        except urllib.error.HTTPError as error:  # a 3xx or 4xx capture, passed on
            status, headers, body = error.code, error.headers, error.read()
        return Route(status, {k: v for k, v in headers.items() if k.lower() in passed}, body)

    return answer


def from_wayback(tmp_path: Path, base: str, since: str, until: str) -> CompletedProcess[str]:
    """`crawl --from wayback --site futu` over the range, with the news site's mirror up and
    counting: not one request may reach it."""
    with MirrorServer(fixture_routes(iter_fixtures())) as site:
        config = history_config(tmp_path, site, **wayback_at(base))
        result = newsarchive(
            "--config",
            str(config),
            "crawl",
            "--from",
            "wayback",
            "--site",
            "futu",
            "--since",
            since,
            "--until",
            until,
        )
        assert site.requests == []  # not one request to the news site
    return result


def test_a_year_from_the_wayback_machine_is_archived_once_with_its_provenance(
    tmp_path: Path, archive_server: tuple[str, Path]
) -> None:
    base = archive_server[0]
    first = from_wayback(tmp_path, base, "2024-01-01", "2024-12-31")
    futu = summary_line(first.stdout, "futu")
    # the posts, the deleted page and the moved one, not 2022's
    assert futu["discovered"] == len(POSTS) + 2, first.stdout + first.stderr[-3000:]
    # the moved page's redirect is followed in the archive: the page it moved to, at its id
    assert futu["archived"] == len(POSTS) + 1 and futu["fetch_failed"] == 1  # the 404: `gone`
    assert first.returncode == 1 and "PROBLEM: futu: 1 of" in first.stdout  # above 5%
    stored = {
        json.loads(p.read_text())["id"]: json.loads(p.read_text())
        for p in records(tmp_path, "futu")
    }
    assert len(stored) == len(POSTS) + 1
    moved = stored[identify(MOVED_URL).id]
    assert moved["text"] == POSTS[1].expected()["article"]["text"]
    assert (
        moved["fetched_url"].startswith(f"{base}/web/") and "55507777" not in moved["fetched_url"]
    )
    record = stored[identify(EDITED.url).id]
    assert record["text"] == EDITED.expected()["article"]["text"]  # the newest capture
    assert record["fetched_at"] == "2024-03-05T02:00:00+00:00"  # when it was captured
    assert record["source_url"] == canonical(EDITED)
    provenance = record["fetched_from"]
    assert provenance["archive"] == "wayback" and provenance["timestamp"] == "20240305020000"
    assert provenance["replay_url"] == f"{base}/web/20240305020000id_/{canonical(EDITED)}"
    assert record["fetched_url"] == provenance["replay_url"]
    assert record["warc"] is not None  # the capture as served is in the project's WARC
    config = tmp_path / "newsarchive.toml"
    verify = newsarchive("--config", str(config), "verify", "--site", "futu")
    assert verify.returncode == 0, verify.stdout + verify.stderr[-2000:]

    second = from_wayback(tmp_path, base, "2024-01-01", "2024-12-31")
    again = summary_line(second.stdout, "futu")
    assert again["archived"] == 0 and again["already_archived"] == len(POSTS) + 1
    assert len(records(tmp_path, "futu")) == len(POSTS) + 1


def test_a_range_with_no_captures_is_said_as_such_not_taken_for_no_news(
    tmp_path: Path, archive_server: tuple[str, Path]
) -> None:
    result = from_wayback(tmp_path, archive_server[0], "2019-01-01", "2019-12-31")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "no captures of news.futunn.com/post/ from 2019-01-01 to 2019-12-31" in result.stderr
    assert "PROBLEM" not in result.stdout


def test_cdx_answers_of_both_services_read_alike_and_one_capture_is_kept_per_article() -> None:
    wayback_json = json.dumps(
        [
            ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
            [
                "com,futunn,news)/post/1",
                "20240101000000",
                "https://news.futunn.com/post/1?src=3",
                "text/html",
                "200",
                "AAA",
                "100",
            ],
            [
                "com,futunn,news)/post/1",
                "20240202000000",
                "https://news.futunn.com/post/1",
                "text/html",
                "302",
                "BBB",
                "100",
            ],
            [
                "com,futunn,news)/post/2",
                "20240101000000",
                "https://news.futunn.com/post/2",
                "text/html",
                "-",
                "CCC",
                "100",
            ],
        ]
    )
    pywb_lines = "\n".join(
        json.dumps(row)
        for row in [
            {
                "urlkey": "x",
                "timestamp": "20240101000000",
                "url": "https://news.futunn.com/post/1",
                "mime": "text/html",
                "status": "200",
                "digest": "AAA",
                "filename": "a.warc.gz",
                "offset": "10",
                "length": "99",
            },
        ]
    )
    found = parse_cdx(wayback_json, "wayback")
    assert [(c.original, c.status) for c in found] == [
        ("https://news.futunn.com/post/1?src=3", 200),
        ("https://news.futunn.com/post/1", 302),
        ("https://news.futunn.com/post/2", None),
    ]
    (cc,) = parse_cdx(pywb_lines, "commoncrawl", "CC-MAIN-2024-10")
    assert (cc.filename, cc.offset, cc.length, cc.collection) == (
        "a.warc.gz",
        10,
        99,
        "CC-MAIN-2024-10",
    )
    assert parse_cdx("", "wayback") == [] and parse_cdx("[]", "wayback") == []
    with pytest.raises(ValueError):
        parse_cdx("<html>rate limited</html>", "wayback")
    kept = {ref.id: capture for ref, capture in choose(found, identify)}
    # post 1: the good capture, though older than its redirect; post 2: its only capture
    assert kept["1-zh-CN"].timestamp == "20240101000000"
    assert kept["2-zh-CN"].status is None
    assert isinstance(kept["1-zh-CN"], Capture)
    # one article's captures split over two pages: still the newest good one
    book = CaptureBook()
    book.add(found[1:], identify)
    book.add(found[:1], identify)
    assert {ref.id: c.timestamp for ref, c in book.chosen()}["1-zh-CN"] == "20240101000000"
    assert book.captures == 3


def test_page_counts_of_both_services_read_alike_and_rows_are_not_a_count() -> None:
    assert page_count("12\n") == 12  # the Wayback Machine
    assert page_count('{"pages": 4, "pageSize": 1, "blocks": 4}') == 4  # pywb over ZipNum
    row = '{"urlkey": "com,futunn,news)/post/1", "timestamp": "20240101000000"}'
    assert page_count(row) is None and page_count(f"{row}\n{row}") is None  # no paging here
    assert page_count('[["urlkey", "timestamp"]]') is None
    query = cdx_query(
        "http://x/cdx",
        "news.futunn.com/post/",
        date(2024, 1, 1),
        date(2024, 1, 31),
        page=3,
        page_size=2,
    )
    assert query.endswith("&page=3&pageSize=2") and "from=20240101000000" in query


def ranged_file(folder: Path) -> Any:
    """Common Crawl's data host: files by path, answering byte ranges with 206."""

    routes: dict[str, Any] = {}
    for path in folder.iterdir():
        data = path.read_bytes()

        def serve(
            _q: dict[str, list[str]], headers: dict[str, str], _b: bytes, data: bytes = data
        ) -> Route:
            start, _, end = headers.get("range", "bytes=0-").removeprefix("bytes=").partition("-")
            first, last = int(start), int(end or len(data) - 1)
            return Route(
                206,
                {
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"bytes {first}-{last}/{len(data)}",
                },
                data[first : last + 1],
            )

        routes[f"/data/{path.name}"] = serve
    return routes


def test_a_month_from_common_crawl_is_read_by_byte_range_from_the_crawl_that_covers_it(
    tmp_path: Path, archive_server: tuple[str, Path]
) -> None:
    base, root = archive_server
    crawls = [
        {
            "id": "CC-MAIN-2024-10",
            "name": "March 2024 Index",
            "cdx-api": f"{base}/cc/cdx",
            "from": "2024-02-20T00:00:00Z",
            "to": "2024-03-10T00:00:00Z",
        },
        {
            "id": "CC-MAIN-2023-06",
            "name": "February 2023 Index",
            "cdx-api": f"{base}/not-asked/cdx",
        },
    ]
    handlers = ranged_file(root / "collections" / "cc" / "archive")
    handlers["/collinfo.json"] = lambda *_: Route(
        200, {"Content-Type": "application/json"}, json.dumps(crawls).encode()
    )
    with (
        MirrorServer(fixture_routes([]), handlers=handlers) as data,
        MirrorServer(fixture_routes(iter_fixtures())) as site,
    ):
        config = history_config(
            tmp_path,
            site,
            commoncrawl_index=f"{data.url}/collinfo.json",
            commoncrawl_data=f"{data.url}/data",
            commoncrawl_rate=50,
        )
        args = [
            "crawl",
            "--from",
            "commoncrawl",
            "--site",
            "futu",
            "--since",
            "2024-03-01",
            "--until",
            "2024-03-31",
        ]
        result = newsarchive("--config", str(config), *args)
        assert site.requests == []
        ranges = [h.get("range") for p, h, _ in data.request_log if p.startswith("/data/")]
    futu = summary_line(result.stdout, "futu")
    assert futu["archived"] == len(POSTS), result.stdout + result.stderr[-3000:]
    assert all(r and r.startswith("bytes=") for r in ranges) and len(ranges) == len(POSTS) + 2
    # Common Crawl replays nothing: a redirect capture is counted as a crawl's would be
    assert futu["filtered"] == 1 and "offsite redirect: " + MOVED_URL in result.stdout
    assert "commoncrawl: 1 crawls cover 2024-03-01 to 2024-03-31: CC-MAIN-2024-10" in result.stderr
    record = next(
        json.loads(p.read_text())
        for p in records(tmp_path, "futu")
        if json.loads(p.read_text())["id"] == identify(EDITED.url).id
    )
    provenance = record["fetched_from"]
    assert provenance["archive"] == "commoncrawl" and provenance["collection"] == "CC-MAIN-2024-10"
    assert provenance["filename"] == "cc-captures.warc.gz" and provenance["length"] > 0
    assert record["fetched_url"] == f"{data.url}/data/cc-captures.warc.gz"
    assert record["fetched_at"] == "2024-03-05T02:00:00+00:00"
    assert record["text"] == EDITED.expected()["article"]["text"]
    # the project's WARC keeps the capture as the site served it, at the page's own URL
    warc = record["warc"]
    kept = record_at(tmp_path / "archive", warc["key"], warc["offset"], warc["length"])
    assert kept.rec_type == "response" and kept.body == EDITED.body
    assert kept.rec_headers.get_header("WARC-Target-URI") == canonical(EDITED)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


def test_backfill_from_the_wayback_machine_queues_each_capture_and_two_workers_archive_it_once(
    tmp_path: Path, archive_server: tuple[str, Path], redis_server: RedisServer
) -> None:
    base = archive_server[0]
    env = {"NEWSARCHIVE_REDIS": redis_server.url}
    redis_server.client().flushall()
    replays: list[float] = []
    front = MirrorServer(fixture_routes([]), fallback=replay_front(base, replays))
    with MirrorServer(fixture_routes(iter_fixtures())) as site, front:
        config = str(
            history_config(
                tmp_path,
                site,
                **wayback_at(base, cdx=f"{base}/plain/cdx", replay=f"{front.url}/web", rate=2),
            )
        )
        span = ["--site", "futu", "--since", "2024-01-01", "--until", "2024-12-31"]
        seeded = newsarchive("--config", config, "backfill", "--from", "wayback", *span, env=env)
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr[-3000:]
        assert seeded.stdout.splitlines()[-1] == (
            f"queued {len(POSTS) + 2}, already archived 0, already queued 0"
        )
        # each entry carries the capture its worker fetches: the newest good one per article
        queued = [
            json.loads(e)
            for e in redis_server.client().lrange("newsarchive:futu:start_urls", 0, -1)
        ]
        by_id = {e["id"]: e["capture"] for e in queued}
        assert by_id[identify(EDITED.url).id]["timestamp"] == "20240305020000"
        assert by_id[identify(GONE_URL).id]["status"] == 404
        assert identify(OLD_URL).id not in by_id  # captured in 2022, outside the range
        workers = [
            start_newsarchive(
                "--config", config, "worker", "--site", "futu", "--idle-exit", "2", env=env
            )
            for _ in range(2)
        ]
        outputs = finish(workers, expect=None)
        assert site.requests == []  # not one request to the news site
    # the workers together keep to the archive's rate (2 a second): without it, a worker
    # asks its replays within a fraction of a second. A request leaves no earlier than its
    # slot, 0.5 s after the one before, but may leave later on a busy machine, which brings
    # it closer to the next: only the first one's lateness (under 1.5 s) shortens the span.
    assert len(replays) == len(POSTS) + 3  # each capture, and the redirect's target
    assert replays[-1] - replays[0] >= (len(replays) - 1) / 2 - 1.5, [
        round(b - a, 2) for a, b in itertools.pairwise(replays)
    ]
    # the worker that met the deleted page says so (1 of its pages failed); the other is fine
    assert sorted(w.returncode for w in workers) == [0, 1], outputs
    assert all("Traceback" not in output for output in outputs)
    stored = [json.loads(p.read_text()) for p in records(tmp_path, "futu")]
    expected = [identify(u).id for u in [*(f.url for f in POSTS), MOVED_URL]]
    assert sorted(r["id"] for r in stored) == sorted(expected)
    edited = next(r for r in stored if r["id"] == identify(EDITED.url).id)
    assert edited["text"] == EDITED.expected()["article"]["text"]
    assert edited["fetched_at"] == "2024-03-05T02:00:00+00:00"
    replayed = f"{front.url}/web/20240305020000id_/{canonical(EDITED)}"
    assert edited["fetched_from"]["replay_url"] == replayed
    state = ArchiveState(LocalStore(tmp_path / "archive"), tmp_path / "spool")
    parsed = [line["id"] for line in state.outcomes("futu") if line["outcome"] == "parsed"]
    assert sorted(parsed) == sorted(r["id"] for r in stored)  # each fetched and parsed once
    client = redis_server.client()
    assert client.scard("newsarchive:futu:archived") == len(POSTS) + 1
    assert client.hgetall("newsarchive:futu:failed") == {identify(GONE_URL).id: "gone"}

    again = newsarchive("--config", config, "backfill", "--from", "wayback", *span, env=env)
    # the archived ones are not queued again; the deleted page is, for another try
    assert again.stdout.splitlines()[-1] == (
        f"queued 1, already archived {len(POSTS) + 1}, already queued 0"
    ), again.stdout + again.stderr[-2000:]


def test_a_throttled_archive_is_asked_again_after_its_retry_after_and_the_run_completes(
    tmp_path: Path, archive_server: tuple[str, Path]
) -> None:
    """The first CDX query answers 429 with Retry-After: 2, as the Wayback Machine does when
    pushed; the rest pass through to pywb."""
    base = archive_server[0]
    asked: list[float] = []

    def cdx(query: dict[str, list[str]], _h: dict[str, str], _b: bytes) -> Route:
        asked.append(time.monotonic())
        if len(asked) == 1:
            return Route(429, {"Retry-After": "2", "Content-Type": "text/plain"}, b"slow down")
        with urlopen(f"{base}/web/cdx?{urlencode(query, doseq=True)}", timeout=30) as answer:
            return Route(200, {"Content-Type": "application/json"}, answer.read())

    with (
        MirrorServer(fixture_routes([]), handlers={"/cdx": cdx}) as front,
        MirrorServer(fixture_routes(iter_fixtures())) as site,
    ):
        config = history_config(tmp_path, site, **wayback_at(base, cdx=f"{front.url}/cdx"))
        span = ["--site", "futu", "--since", "2024-01-01", "--until", "2024-12-31"]
        result = newsarchive("--config", str(config), "crawl", "--from", "wayback", *span)
        assert site.requests == []
        times = dict(enumerate(front.request_times))
        cdx_asked = [
            (path, times[i])
            for i, (path, _, _) in enumerate(front.request_log)
            if path.startswith("/cdx")
        ]
        throttled = [t for path, t in cdx_asked if path == cdx_asked[0][0]]
    futu = summary_line(result.stdout, "futu")
    assert futu["archived"] == len(POSTS) + 1, result.stdout + result.stderr[-3000:]
    assert futu["discovery_errors"] == 0
    assert len(throttled) == 2 and throttled[1] - throttled[0] >= 2.0  # after its Retry-After
    # every URL form asked for its number of pages, then page by page (one block per page)
    queries = [path for path, _ in cdx_asked]
    counts = [q for q in queries if "showNumPages=true" in q]
    assert len(set(counts)) == len(SITES["futu"].archive_prefixes)
    post_pages = [q for q in queries if "post%2F&" in q and "showNumPages" not in q]
    assert len(post_pages) > 2 and len(set(post_pages)) == len(post_pages)


def test_all_captures_archives_each_change_of_an_article_as_a_version_oldest_first(
    tmp_path: Path, archive_server: tuple[str, Path]
) -> None:
    base = archive_server[0]
    span = ["--site", "futu", "--since", "2024-01-01", "--until", "2024-12-31"]
    with MirrorServer(fixture_routes(iter_fixtures())) as site:
        config = str(history_config(tmp_path, site, **wayback_at(base)))
        every = ["crawl", "--from", "wayback", "--all-captures", *span]
        first = newsarchive("--config", config, *every)
        second = newsarchive("--config", config, *every)
        assert site.requests == []
    futu = summary_line(first.stdout, "futu")
    # the edited post's two captures differ: a first version, then a new one
    assert futu["archived"] == len(POSTS) + 1 and futu["new_versions"] == 1, first.stdout
    assert futu["requested"] == len(POSTS) + 3  # each capture fetched ends in its outcome
    versions = sorted(
        (
            json.loads(p.read_text())
            for p in records(tmp_path, "futu")
            if json.loads(p.read_text())["id"] == identify(EDITED.url).id
        ),
        key=lambda r: r["version"],
    )
    assert [r["fetched_at"] for r in versions] == [
        "2024-03-04T02:00:00+00:00",
        "2024-03-05T02:00:00+00:00",
    ]
    assert versions[-1]["text"] == EDITED.expected()["article"]["text"]
    # the older capture's edit (a "!" after the first paragraph) landed in its original title
    assert versions[0]["original_title"] == versions[-1]["original_title"] + "!"
    again = summary_line(second.stdout, "futu")
    assert again["archived"] == 0 and again["new_versions"] == 0
    assert again["unchanged"] == len(POSTS) + 2  # every capture again: nothing new


def test_all_captures_goes_with_a_web_archive_only(tmp_path: Path) -> None:
    result = newsarchive("crawl", "--all-captures", "--site", "futu")
    assert result.returncode == 2 and "--all-captures goes with --from" in result.stderr


def test_a_capture_claimed_by_a_worker_that_died_goes_back_on_the_queue_with_its_capture(
    redis_server: RedisServer,
) -> None:
    redis_server.client().flushall()
    frontier = Frontier(connect(redis_server.url))
    capture = Capture("wayback", canonical(EDITED), "20240305020000", 200, "KR2SMJ2M")
    seeder = Seeder(frontier, lambda site, ids: set())
    seeder.add("futu", identify(EDITED.url).id, canonical(EDITED), capture.as_data())
    seeder.flush()
    assert len(frontier.claim("futu", 10, "worker-killed-before-its-first-heartbeat")) == 1
    rerun = Seeder(frontier, lambda site, ids: set())
    rerun.requeue_orphans("futu")
    assert rerun.counts.requeued == 1
    (entry,) = frontier.claim("futu", 10, "the-next-worker")
    assert Capture.from_data(json.loads(entry)["capture"]) == capture


def test_a_plain_scrapy_crawl_from_a_web_archive_archives_its_captures_as_a_history_run(
    tmp_path: Path, archive_server: tuple[str, Path]
) -> None:
    """`from_archive` is a spider argument: `scrapy crawl` reaches the web archive's captures
    as `newsarchive crawl --from` does, and its run report says what kind of run it was."""
    base = archive_server[0]
    with MirrorServer(fixture_routes(iter_fixtures())) as site:
        config = history_config(tmp_path, site, **wayback_at(base))
        args = ["-a", "from_archive=wayback", "-a", "since=2024-01-01", "-a", "until=2024-12-31"]
        crawled = scrapy("crawl", "futu", *args, "-s", f"NEWSARCHIVE_CONFIG={config}")
        assert site.requests == []  # not one request to the news site
    assert "Traceback" not in crawled.stderr, crawled.stderr[-3000:]
    stored = {json.loads(p.read_text())["id"] for p in records(tmp_path, "futu")}
    assert identify(EDITED.url).id in stored
    report = json.loads(next((tmp_path / "archive" / "runs").rglob("*.json")).read_text())
    assert report["command"] == "scrapy crawl" and report["kind"] == "history"


def test_a_spider_fed_by_a_web_archive_brings_the_archives_polite_slots() -> None:
    """However the run started, the archive is asked at its `[history]` rate, one request at
    a time (Scrapy reads DOWNLOAD_SLOTS once the spider is made)."""
    from scrapy.crawler import Crawler
    from scrapy.utils.project import get_project_settings

    from crawler.spiders.futu import FutuSpider

    crawler = Crawler(FutuSpider, get_project_settings())
    FutuSpider.from_crawler(crawler, from_archive="wayback")
    slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
    assert slots == {"web.archive.org": {"concurrency": 1, "delay": 1 / 0.15}}
    plain = Crawler(FutuSpider, get_project_settings())
    FutuSpider.from_crawler(plain)
    assert plain.settings.getdict("DOWNLOAD_SLOTS") == {}
