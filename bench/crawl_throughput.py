"""Crawl throughput of a full discovery crawl -> parse -> archive vs `scrapy bench`, one run.

    python bench/crawl_throughput.py [--articles 5000] [--bench-seconds 20] [--before REF]

Prints pages/min of `scrapy bench` (Scrapy's own local benchmark: fetch + link extraction,
no parsing, no storage), then of `newsarchive crawl` over the local mirror holding the
fixture pages plus N generated articles, archived into (a) the local folder and (b) a
`weed mini` S3 server, with the ratio to scrapy bench and, for S3, to the local folder; the
S3 requests per archived article by type (counted by weed itself, its Prometheus counters,
which count a HEAD as a GET), and those of a second crawl that finds every article archived,
per article listed again; the CPU the crawl process and weed used, in cores over the crawl's
time; each crawl's peak RSS and its RSS at each quarter of the run (flat memory: the
quarters stay level).

`--before REF` runs the same crawls a second time with the code of an earlier commit (a git
worktree), in the same run on the same machine, so a change is judged by before/after
figures; the default is the last commit before WARC capture. `--before none` skips it.
The mirror runs in this process; both compete for the same 2 cores, as they would on a
small crawl box.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.mirror.catalog import Catalog  # noqa: E402
from crawler.mirror.fixtures import iter_fixtures  # noqa: E402
from crawler.mirror.server import MirrorServer  # noqa: E402
from tests.support.configs import sites_toml  # noqa: E402
from tests.support.s3server import WeedMini  # noqa: E402

RSS_SAMPLE_SECONDS = 0.5


def rss_kib(pid: int) -> int:
    """Resident set size of one process now (Linux /proc), 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match[1]) if match else 0


def measured(
    args: list[str], env: dict[str, str], cwd: Path = ROOT
) -> tuple[str, str, float, list[int]]:
    """Run a command; its output, wall time and RSS samples (KiB) taken through the run."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        samples = []
        while process.poll() is None:
            samples.append(rss_kib(process.pid))
            time.sleep(RSS_SAMPLE_SECONDS)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return out.read(), err.read(), elapsed, [s for s in samples if s] or [0]


def rss_profile(samples: list[int]) -> str:
    """Peak RSS, and RSS at each quarter of the run: flat memory shows as equal quarters."""
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in (1, 2, 3, 4)]
    shown = " / ".join(f"{q / 1024:.0f}" for q in quarters)
    return f"peak RSS {max(samples) / 1024:6.0f} MiB (at 1/4, 1/2, 3/4, end: {shown} MiB)"


def scrapy_bench(seconds: int) -> tuple[float, list[int]]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": ""}
    _, err, _, rss = measured(
        [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"], env
    )
    rates = [int(x) for x in re.findall(r"at (\d+) pages/min", err)]
    return max(rates), rss


# Listings as long as the mirror serves them.
SITE_EXTRA: dict[str, dict[str, object]] = {
    "futu": {"headline_size": 100000, "flash_page_size": 100, "max_pages": 100000},
    "tencent": {"item_count": 50, "max_pages": 100000},
}


def config_text(
    mirror: MirrorServer,
    workdir: Path,
    archive: str,
    extra_archive: str = "",
    per_domain: int = 16,
    site_extra: dict[str, dict[str, object]] | None = None,
) -> str:
    """A bench config: no delays, no throttle, quiet; `site_extra` replaces SITE_EXTRA.
    Search indexing stays at its default (after a crawl into a local folder), as users run
    it, and no section newer than the `--before` commit appears here."""
    return f"""
[archive]
location = "{archive}"
spool_dir = "{workdir / "spool"}"
{extra_archive}
[crawl]
lock_dir = "{workdir / "locks"}"
download_delay = 0
autothrottle = false
concurrent_requests_per_domain = {per_domain}
log_level = "WARNING"
{sites_toml(mirror, SITE_EXTRA if site_extra is None else site_extra)}"""


def children_cpu() -> float:
    """CPU seconds of the waited-for children of this process (the crawls)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds a running process has used (Linux /proc), 0 once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CrawlFigures:
    rate: float  # pages/min
    rss: list[int]
    archived: int
    elapsed: float
    cpu: float  # crawl process, seconds
    already_archived: int = 0
    s3_requests: dict[str, int] | None = None
    server_cpu: float | None = None  # weed, seconds over the crawl
    recrawl: CrawlFigures | None = None  # the same crawl again: everything archived

    def shares(self) -> str:
        shown = f"CPU: crawl {self.cpu / self.elapsed:4.2f}"
        if self.server_cpu is not None:
            shown += f", weed {self.server_cpu / self.elapsed:4.2f}"
        return shown + " cores"


def per_article(requests: dict[str, int], articles: int) -> str:
    total = sum(requests.values())
    kinds = ", ".join(f"{kind} {n / articles:.2f}" for kind, n in sorted(requests.items()))
    return f"{total / articles:5.2f} S3 requests/article ({kinds})"


def our_crawl(workdir: Path, config: str, env: dict[str, str], code: Path) -> CrawlFigures:
    path = workdir / "bench.toml"
    path.write_text(config, encoding="utf-8")
    args = [
        sys.executable,
        "-m",
        "crawler.cli",
        "--config",
        str(path),
        "crawl",
        "--since",
        "2000-01-01",
    ]
    # `python -m` puts the working folder first on sys.path: the code under `code` runs.
    cpu_before = children_cpu()
    out, err, elapsed, rss = measured(args, {**env, "PYTHONPATH": str(code)}, cwd=code)
    cpu = children_cpu() - cpu_before
    fetched = sum(int(x) for x in re.findall(r"fetched (\d+)", out))
    archived = sum(int(x) for x in re.findall(r", archived (\d+)", out))
    again = sum(int(x) for x in re.findall(r"already archived (\d+)", out))
    if archived == 0 and again == 0:
        raise SystemExit(f"crawl archived nothing:\n{out}\n{err[-2000:]}")
    return CrawlFigures(fetched / elapsed * 60, rss, archived, elapsed, cpu, again)


def crawls_of(
    code: Path, label: str, mirror: MirrorServer, env: dict[str, str]
) -> dict[str, CrawlFigures]:
    """The same two crawls (local folder, weed mini) with the code in `code`."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        local = our_crawl(
            workdir, config_text(mirror, workdir, str(workdir / "archive")), env, code
        )
        shutil.rmtree(workdir / "archive")
        weed = WeedMini(workdir / "weed", metrics=True).start()
        try:
            bucket = f"bench-{label}"
            weed.client().create_bucket(Bucket=bucket)
            extra = 'addressing_style = "path"\nendpoint_url = "' + weed.endpoint + '"'
            config = config_text(mirror, workdir / "s3", f"s3://{bucket}/news", extra)
            assert weed.process is not None
            weed_before = process_cpu(weed.process.pid)
            s3 = our_crawl(workdir, config, {**env, **weed.env()}, code)
            s3.server_cpu = process_cpu(weed.process.pid) - weed_before
            s3.s3_requests = weed.s3_requests_by_type(bucket)
            s3.recrawl = our_crawl(workdir, config, {**env, **weed.env()}, code)
            requests = weed.s3_requests_by_type(bucket)
            s3.recrawl.s3_requests = {
                k: v - s3.s3_requests.get(k, 0)
                for k, v in requests.items()
                if v - s3.s3_requests.get(k, 0)
            }
        finally:
            weed.stop()
    return {"local folder": local, "weed mini (S3)": s3}


def worktree(ref: str, parent: Path) -> Path:
    """A checkout of `ref` beside this one, for the before figures."""
    path = parent / "before"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), ref],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


BEFORE_WARC = "c3a9edb"  # main before WARC capture (issue 12)


def main() -> int:
    options = argparse.ArgumentParser()
    options.add_argument("--articles", type=int, default=5000)
    options.add_argument("--bench-seconds", type=int, default=20)
    options.add_argument("--before", default=BEFORE_WARC, help="earlier commit to compare, or none")
    opts = options.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSARCHIVE_", "AWS_"))}

    bench_rate, bench_rss = scrapy_bench(opts.bench_seconds)
    label = "scrapy bench:"
    print(f"{label:34} {bench_rate:8.0f} pages/min  {rss_profile(bench_rss)}")

    catalog = Catalog(iter_fixtures(), extra_articles=opts.articles)
    runs: dict[str, dict[str, CrawlFigures]] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        MirrorServer(catalog.routes(), handlers=catalog.handlers()) as mirror,
    ):
        if opts.before != "none":
            before = worktree(opts.before, Path(tmp))
            try:
                runs[f"before ({opts.before})"] = crawls_of(before, "before", mirror, env)
            finally:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(before)],
                    cwd=ROOT,
                    capture_output=True,
                    timeout=120,
                )
        runs["now"] = crawls_of(ROOT, "now", mirror, env)
    for code, crawls in runs.items():
        print(code)
        local = crawls["local folder"]
        for name, figures in crawls.items():
            print(
                f"  newsarchive crawl -> {name:14} {figures.rate:8.0f} pages/min  ratio to scrapy "
                f"bench {figures.rate / bench_rate:5.2f}  ({figures.archived} articles archived)"
                f"\n{'':36}{figures.shares()}; {rss_profile(figures.rss)}"
            )
            if figures.s3_requests is not None:
                print(
                    f"{'':36}S3/local folder {figures.rate / local.rate:5.2f}; "
                    f"{per_article(figures.s3_requests, figures.archived)}"
                )
            again = figures.recrawl
            if again is not None and again.s3_requests is not None and again.already_archived:
                print(
                    f"{'':36}crawled again ({again.already_archived} listed, all archived): "
                    f"{per_article(again.s3_requests, again.already_archived)}"
                )
    print(
        "targets: local folder >= 0.60 of scrapy bench; S3 >= 0.45 of scrapy bench and "
        ">= 0.70 of the local folder; a new article <= 3 S3 requests"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
