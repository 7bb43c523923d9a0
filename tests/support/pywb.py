"""A real pywb (the replay and CDX server the Wayback Machine's API and Common Crawl's index
follow) on 127.0.0.1, over WARC files a test writes, in a virtualenv of its own
(requirements-pywb.txt: pywb 2.10 pins a redis the frontier cannot run with)."""

from __future__ import annotations

import fcntl
import gzip
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.support.commands import REPO
from tests.support.s3server import free_ports

PYWB_REQUIREMENTS = REPO / "requirements-pywb.txt"
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}


def install_pywb(folder: Path) -> Path:
    """The bin folder of a fresh virtualenv with pywb."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-r", str(PYWB_REQUIREMENTS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv / "bin"


def session_pywb(factory: pytest.TempPathFactory) -> Path:
    """One pywb virtualenv for the whole test session, shared by the xdist workers (their
    temporary folders have one parent per session): installed once, under a lock."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "pywb-shared"
    folder.mkdir(exist_ok=True)
    with (shared / "pywb-shared.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "venv" / "bin" / "wayback").exists():
            install_pywb(folder)
    return folder / "venv" / "bin"


@contextmanager
def wayback(pywb: Path, root: Path) -> Iterator[str]:
    """pywb's `wayback` server over the collections under `root`, on a free port."""
    (port,) = free_ports(1)
    server = subprocess.Popen(
        [str(pywb / "wayback"), "--port", str(port), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=5).read()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "pywb did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def manager(pywb: Path, root: Path, *args: str) -> None:
    done = subprocess.run(
        [str(pywb / "wb-manager"), *args], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def write_captures(
    path: Path, captures: Iterable[tuple[str, datetime, int, dict[str, str], bytes]]
) -> Path:
    """A gzipped WARC file of HTTP responses (url, capture time, status, headers, body), as a
    web archive's crawler would have written them."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, when, status, headers, body in captures:
            http = StatusAndHeaders(
                f"{status} {REASONS.get(status, 'OK')}",
                [*headers.items(), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
    return path


def collection(pywb: Path, root: Path, name: str, warc_file: Path) -> None:
    """A pywb collection holding `warc_file`, indexed by pywb itself."""
    manager(pywb, root, "init", name)
    manager(pywb, root, "add", name, str(warc_file))


def as_zipnum_cluster(root: Path, name: str, lines_per_block: int = 2) -> int:
    """The collection's index (as `wb-manager add` wrote it: one sorted .cdxj) turned into a
    ZipNum cluster, the index the Wayback Machine and Common Crawl serve: gzip blocks of
    `lines_per_block` lines, a summary (`.idx`: each block's first key, part, offset, length,
    line number) and a `.loc` naming the part's file. Only on such an index does pywb answer
    `showNumPages` and `page=` as they do. Returns the number of blocks."""
    indexes = root / "collections" / name / "indexes"
    plain = indexes / "index.cdxj"
    lines = plain.read_bytes().splitlines(keepends=True)
    blocks, summary, offset = bytearray(), [], 0
    for number, start in enumerate(range(0, len(lines), lines_per_block)):
        chunk = lines[start : start + lines_per_block]
        packed = gzip.compress(b"".join(chunk))
        key = b" ".join(chunk[0].split(b" ", 2)[:2]).decode()
        summary.append(f"{key}\tcluster\t{offset}\t{len(packed)}\t{number + 1}\n")
        blocks += packed
        offset += len(packed)
    (indexes / "cluster.cdxj.gz").write_bytes(bytes(blocks))
    (indexes / "cluster.idx").write_text("".join(summary), encoding="utf-8")
    (indexes / "cluster.loc").write_text("cluster\tcluster.cdxj.gz\n", encoding="utf-8")
    plain.unlink()
    return len(summary)
