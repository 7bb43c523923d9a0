"""`newsarchive verify`: the fixity audit, for archivists and cron.

Exit 0 when every object of the range is as stored, 1 when some are missing or corrupted
(each listed by key on stdout, or as JSON lines with `--json`), 2 for bad arguments. The full
report is stored under `audits/` in the archive itself, so the audit trail travels with it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from crawler.commands.common import day_range, reader_for
from crawler.config import Config
from crawler.sites import SITE_NAMES
from crawler.stats import Exit
from pipelines.read.fixity import audit
from pipelines.records.layout import audit_report_key
from pipelines.store import StoreError, check_store


def add_arguments(commands: Any) -> None:
    verify = commands.add_parser(
        "verify", help="fixity audit: re-read stored objects, check sizes and digests"
    )
    verify.add_argument("--site", choices=SITE_NAMES)
    verify.add_argument("--since", help="from YYYY-MM-DD (publication day; WARC files: UTC day)")
    verify.add_argument("--until", help="to YYYY-MM-DD, inclusive")
    verify.add_argument("--json", action="store_true", help="findings as JSON lines")


def cmd_verify(args: argparse.Namespace, config: Config) -> int:
    from tqdm import tqdm

    since, until = day_range(args)
    reader = reader_for(config)
    check_store(reader.store)
    started = datetime.now(UTC)
    with tqdm(desc="verify", unit="object", file=sys.stderr, disable=None) as bar:
        result = audit(reader, args.site, since, until, progress=lambda key: bar.update())
    scope = {"site": args.site, "since": args.since, "until": args.until}
    report = result.report(scope, started)
    for finding in result.findings.values():
        print(json.dumps(vars(finding)) if args.json else finding.line())
    checked = ", ".join(f"{count} {what}" for what, count in result.checked.items())
    print(f"checked {checked or 'nothing'}; {len(result.findings)} problems", file=sys.stderr)
    key = audit_report_key(started, os.getpid())
    body = json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")
    try:
        reader.store.put_if_absent(key, body, "application/json")
        print(f"audit report: {key}", file=sys.stderr)
    except StoreError as error:
        print(f"newsarchive: audit report not stored: {error}", file=sys.stderr)
        return Exit.PROBLEMS
    return Exit.PROBLEMS if result.findings else Exit.OK


COMMANDS = {"verify": cmd_verify}
