"""Fault injection: the nights that go wrong, and whether anything was lost or duplicated.

    python bench/faults.py [--articles 40] [--kills 20] [--only NAME]

Each row is one fault, played against the local mirror (Tencent discovery: the fixture pages
plus N generated articles) and, for storage faults, a real `weed mini` S3 server. A fault is a
sequence of runs as a user would make them: the faulty night, then what the README says to
do next (the next nightly run, or `newsarchive flush`). Then the archive is read back:

    expected    articles the listings hold that must end up archived
    archived    distinct article ids in the archive after the last run
    lost        expected - archived
    duplicated  ids stored more than once (a second record or a second version)
    audit       `newsarchive verify` of the archive(s) afterwards: "ok" when every record, text
                and WARC file (a killed run's file cut at its last record included) reads back
                as recorded; "Nbad" for N archives with missing or corrupted objects
    exits       exit status of each run, in order
    seconds     wall time of the whole row

Target: 0 lost, 0 duplicated, no hang (every run has a timeout here; a hang shows as exit
"T"). Numbers are printed, not asserted: the test suite checks behaviour, this measures it.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fault_runs import (  # noqa: E402
    BUSY,
    PROBLEMS,
    Faults,
    Row,
    archived_ids,
    closed_port,
    expected_ids,
    finish,
    newsarchive,
    start,
    wait_for,
    write_config,
)
from crawler.mirror.catalog import Catalog  # noqa: E402
from crawler.mirror.fixtures import FIXTURES_DIR, iter_fixtures, load_fixture  # noqa: E402
from crawler.mirror.server import MirrorServer, Route, mirror_path  # noqa: E402
from crawler.parsers import identify  # noqa: E402
from tests.support.s3server import WeedMini  # noqa: E402


class Bench:
    def __init__(self, articles: int, kills: int) -> None:
        self.articles = articles
        self.kill_count = kills
        self.weed: WeedMini | None = None
        self.buckets = 0

    def bucket(self) -> str:
        assert self.weed is not None
        self.buckets += 1
        name = f"faults-{self.buckets}"
        self.weed.client().create_bucket(Bucket=name)
        return name

    def play(
        self, name: str, scenario: Callable[..., list[str]], s3: bool = False, delay: float = 0.0
    ) -> Row:
        catalog = Catalog(iter_fixtures(), extra_articles=self.articles)
        faults = Faults(catalog)
        work = Path(tempfile.mkdtemp(prefix=f"faults-{name}-"))
        row = Row(name, len(expected_ids(catalog)))
        started = time.monotonic()
        bucket = self.bucket() if s3 else None
        with MirrorServer(catalog.routes(), handlers=faults.handlers(), delay=delay) as mirror:
            archive = f"s3://{bucket}/news" if bucket else str(work / "archive")
            row.exits = scenario(work=work, mirror=mirror, faults=faults, archive=archive, row=row)
            if not row.audits:  # the scenario's one archive: every object as recorded?
                row.audits.append(self.audit(work / "audit", mirror, archive))
        if row.measured is not None:
            row.archived, row.duplicated = row.measured
        else:
            counts = archived_ids(work, self.weed if s3 else None, bucket)
            row.archived = len(set(counts) & expected_ids(catalog))
            row.duplicated = sum(1 for n in counts.values() if n > 1)
        row.seconds = time.monotonic() - started
        shutil.rmtree(work, ignore_errors=True)
        return row

    def audit(self, work: Path, mirror: MirrorServer, archive: str) -> str:
        """The fixity audit of an archive after the fault: exit 0 when every record, text
        and WARC file (killed runs' files included) reads back as recorded."""
        work.mkdir(parents=True, exist_ok=True)
        config = write_config(work, mirror, archive)
        env = self.weed.env() if archive.startswith("s3://") and self.weed else None
        return newsarchive(config, "verify", env=env)

    # --- the faults ----------------------------------------------------------------------

    def storage_down_at_start(
        self, work: Path, mirror: MirrorServer, archive: str, **_: object
    ) -> list[str]:
        assert self.weed is not None
        config = write_config(work, mirror, archive)
        self.weed.stop()
        first = newsarchive(config, "crawl", "--site", "tencent", env=self.weed.env())
        self.weed.start()
        second = newsarchive(config, "crawl", "--site", "tencent", env=self.weed.env())
        return [first, second]

    def storage_down_whole_run_then_flush(
        self, work: Path, mirror: MirrorServer, archive: str, **_: object
    ) -> list[str]:
        assert self.weed is not None
        config = write_config(work, mirror, archive)
        self.weed.stop()
        first = newsarchive(config, "crawl", "--site", "tencent", env=self.weed.env())
        self.weed.start()
        return [first, newsarchive(config, "flush", env=self.weed.env())]

    def storage_down_mid_run(
        self, work: Path, mirror: MirrorServer, archive: str, **_: object
    ) -> list[str]:
        assert self.weed is not None
        config = write_config(work, mirror, archive)
        crawl = start(config, "crawl", "--site", "tencent", env=self.weed.env())
        bucket = archive.split("/")[2]
        wait_for(lambda: len(archived_ids(work, self.weed, bucket)) >= 5, crawl)
        self.weed.stop()
        first = finish(crawl)
        self.weed.start()
        return [first, newsarchive(config, "flush", env=self.weed.env())]

    def spool_unwritable(
        self, work: Path, mirror: MirrorServer, archive: str, **_: object
    ) -> list[str]:
        config = write_config(work, mirror, archive)
        text = config.read_text().replace(f'location = "{archive}"', 'location = "s3://down/x"')
        text = text.replace(
            "[archive]\n",
            f'[archive]\nendpoint_url = "http://127.0.0.1:{closed_port()}"\n'
            'addressing_style = "path"\nregion = "us-east-1"\nretry_attempts = 1\n',
        )
        down = work / "down.toml"
        down.write_text(text)
        spool = work / "spool"
        crawl = start(
            down,
            "crawl",
            "--site",
            "tencent",
            env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
        )
        wait_for(lambda: len(list(spool.glob("tencent-*.json"))) >= 2, crawl)
        shutil.move(spool, work / "spool-saved")
        spool.write_text("not a folder")
        first = finish(crawl)
        # The fix a person makes: the spool folder back (with what it held), archive up.
        spool.unlink()
        shutil.move(work / "spool-saved", spool)
        return [first, newsarchive(config, "crawl", "--site", "tencent")]

    def nightly(self, runs: int) -> Callable[..., list[str]]:
        """`runs` discovery runs in a row on a faulty mirror (the retry ledger's job)."""

        def scenario(work: Path, mirror: MirrorServer, archive: str, **_: object) -> list[str]:
            config = write_config(work, mirror, archive, download_timeout=2)
            return [newsarchive(config, "crawl", "--site", "tencent") for _ in range(runs)]

        return scenario

    def killed(self, sig: signal.Signals, count: int) -> Callable[..., list[str]]:
        """`count` crawls, each into a fresh archive, each stopped by `sig` at a random
        point of its run, each followed by one normal run; every archive is checked."""

        def scenario(
            work: Path, mirror: MirrorServer, archive: str, row: Row, faults: Faults, **_: object
        ) -> list[str]:
            exits: list[str] = []
            rng = random.Random(20261126)
            lost = duplicated = 0
            expected = expected_ids(faults.catalog)
            # How long an undisturbed crawl takes: the kills land within it.
            (work / "timing").mkdir()
            timing = write_config(work / "timing", mirror, str(work / "timing" / "archive"))
            began = time.monotonic()
            newsarchive(timing, "crawl", "--site", "tencent")
            duration = time.monotonic() - began
            for n in range(count):
                folder = work / f"kill-{n}"
                folder.mkdir()
                config = write_config(folder, mirror, str(folder / "archive"))
                crawl = start(config, "crawl", "--site", "tencent")
                time.sleep(rng.uniform(0.1, 0.9) * duration)
                killed = crawl.poll() is None
                if killed:
                    crawl.send_signal(sig)
                exits.append(finish(crawl) + ("" if killed else "(done)"))
                exits.append(newsarchive(config, "crawl", "--site", "tencent"))
                row.audits.append(newsarchive(config, "verify"))
                counts = archived_ids(folder, None, None)
                lost += len(expected - set(counts))
                duplicated += sum(1 for c in counts.values() if c > 1)
            row.expected *= count
            row.measured = (row.expected - lost, duplicated)
            return exits

        return scenario

    def chromium_never_passes(
        self, work: Path, mirror: MirrorServer, archive: str, row: Row, **_: object
    ) -> list[str]:
        waf = load_fixture(FIXTURES_DIR / "futu" / "waf-challenge")
        config = write_config(work, mirror, archive, render_timeout=3)
        challenge = Route(waf.status, waf.headers, waf.body)
        mirror.handlers[mirror_path(identify(waf.url).url)] = lambda *_: challenge
        row.expected = 0
        row.note = "the challenge page is kept raw as blocked"
        return [newsarchive(config, "crawl", "--render", "--url", waf.url)]

    def corrupted_index_line(
        self, work: Path, mirror: MirrorServer, archive: str, row: Row, **_: object
    ) -> list[str]:
        config = write_config(work, mirror, archive)
        exits = [newsarchive(config, "crawl", "--site", "tencent")]
        segment = next((work / "archive" / "daily").rglob("*.jsonl"))
        segment.write_bytes(segment.read_bytes() + b'{"id": "broken\n')
        for command in (["ls"], ["export", "--format", "jsonl"], ["reparse", "--site", "tencent"]):
            exits.append(newsarchive(config, *command))
        row.note = "ls / export / reparse skip the damaged line with a warning"
        return exits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--only", help="run one fault (its name in the table)")
    args = parser.parse_args()
    bench = Bench(args.articles, args.kills)

    def storm(path: str, attempt: int) -> Route | None:
        return BUSY if attempt <= 2 and zlib.crc32(path.encode()) % 2 else None

    def slow(path: str, attempt: int) -> Route | None:
        if attempt <= 2 and zlib.crc32(path.encode()) % 3 == 0:
            time.sleep(3)  # past download_timeout = 2
        return None

    def truncated(path: str, attempt: int) -> Route | None:
        if attempt <= 2 and zlib.crc32(path.encode()) % 3 == 1:
            return Route(200, {"Content-Type": "text/html"}, b"<html><body>cut", truncated=True)
        return None

    def loop(path: str, attempt: int) -> Route | None:
        return (
            Route(302, {"Location": path}, b"")
            if attempt <= 25 and zlib.crc32(path.encode()) % 4 == 0
            else None
        )

    table: list[
        tuple[str, Callable[..., list[str]], bool, Callable[[str, int], Route | None] | None]
    ] = [
        ("storage down at start", bench.storage_down_at_start, True, None),
        ("storage down whole run, flush", bench.storage_down_whole_run_then_flush, True, None),
        ("storage down mid-run", bench.storage_down_mid_run, True, None),
        ("archive and spool unwritable", bench.spool_unwritable, False, None),
        ("503 storm (half the pages)", bench.nightly(2), False, storm),
        ("slow responses (timeouts)", bench.nightly(2), False, slow),
        ("truncated responses", bench.nightly(3), False, truncated),
        ("redirect loops", bench.nightly(2), False, loop),
        (
            f"SIGKILL x{args.kills}, each then a run",
            bench.killed(signal.SIGKILL, args.kills),
            False,
            None,
        ),
        ("SIGTERM x5, each then a run", bench.killed(signal.SIGTERM, 5), False, None),
        ("Chromium never passes", bench.chromium_never_passes, False, None),
        ("corrupted index line", bench.corrupted_index_line, False, None),
    ]
    chosen = [entry for entry in table if not args.only or entry[0].startswith(args.only)]
    with tempfile.TemporaryDirectory() as weed_dir:
        if any(s3 for _, _, s3, _ in chosen):
            bench.weed = WeedMini(Path(weed_dir)).start()
        print(
            f"{'fault':36} {'expected':>8} {'archived':>8} {'lost':>5} {'dup':>4} "
            f"{'seconds':>8}  {'audit':>5}  exits"
        )
        try:
            for name, scenario, s3, rule in chosen:
                delay = (
                    0.2
                    if "SIG" in name
                    else 0.05
                    if "mid-run" in name or "unwritable" in name
                    else 0
                )
                wrapped = scenario
                if rule is not None:

                    def wrapped(
                        faults: Faults, _scenario=scenario, _rule=rule, **kw: object
                    ) -> list[str]:
                        faults.rule = _rule
                        return _scenario(faults=faults, **kw)

                row = bench.play(name, wrapped, s3=s3, delay=delay)
                bad = sum(a != "0" for a in row.audits)
                audit = "ok" if not bad else f"{bad}bad"
                print(
                    f"{row.fault:36} {row.expected:>8} {row.archived:>8} {row.lost:>5} "
                    f"{row.duplicated:>4} {row.seconds:>8.1f}  {audit:>5}  {' '.join(row.exits)}"
                    f"{'  (' + row.note + ')' if row.note else ''}",
                    flush=True,
                )
                if row.exits and row.exits[-1] != "0":
                    for line in PROBLEMS:
                        print(f"{'':38}last run: {line}")
        finally:
            if bench.weed is not None:
                bench.weed.stop()


if __name__ == "__main__":
    main()
