"""`newsarchive schedule`: run the configured crawl jobs in the foreground (crawler/schedule.py)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import datetime
from typing import Any

from crawler.config import Config, ConfigError
from crawler.schedule import LOG, build_scheduler, next_fire_times, run_job

LISTED_FIRE_TIMES = 3


def add_arguments(commands: Any) -> None:
    s = commands.add_parser("schedule", help="run the configured crawl jobs on their cron times")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="print every job and next fire times")
    mode.add_argument("--once", metavar="JOB", help="run one job now, in the foreground")


def cmd_schedule(args: argparse.Namespace, config: Config) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s"
    )
    if args.list:
        return _list(config)
    if args.once:
        if args.once not in {job.id for job in config.schedule.jobs}:
            raise ConfigError(f"no job '{args.once}' in schedule.jobs")
        return run_job(args.once, str(config.path) if config.path else None)
    scheduler = build_scheduler(config)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for job in scheduler.get_jobs():
        LOG.info("job %s: next run %s", job.id, job.next_run_time)
    scheduler.resume()  # a run missed while we were down fires now, once
    LOG.info("scheduler running (job store %s); stop with SIGTERM", config.schedule.jobstore)
    stop.wait()
    LOG.info("stopping: waiting for running crawls")
    scheduler.shutdown(wait=True)
    return 0


def _list(config: Config) -> int:
    now = datetime.now().astimezone()
    for job in config.schedule.jobs:
        times = next_fire_times(job, now, LISTED_FIRE_TIMES)
        print(f"{job.id}: '{job.cron}' {job.timezone}  sites {', '.join(job.sites)}")
        for moment in times:
            print(f"    {moment.isoformat()}")
    return 0


COMMANDS = {"schedule": cmd_schedule}
