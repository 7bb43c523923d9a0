"""The crawls' timetable on APScheduler 3.x: jobs in step with the config, and one job run.

One cron job per `[[schedule.jobs]]` entry, persisted in an SQLite job store next to the
config so that a restarted scheduler knows what it missed: a job whose fire time passed while
the scheduler was down runs once when it comes back (`coalesce`), if that was less than
`misfire_grace_hours` ago. Each run is a child process, `newsarchive crawl --site ...`, with a
timeout; this module never imports Scrapy, so a crawl's memory and crashes stay in the child.
The child takes the same per-site lock as a cron-started crawl, so the two never overlap.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

from crawler.config import Config, JobConfig, load_config
from crawler.health.alerts import Message, deliver
from crawler.health.monitors import RUN_WIDE

LOG = logging.getLogger("newsarchive.schedule")
JOB_FUNCTION = "crawler.schedule:run_job"  # referenced by name in the job store
TERMINATE_GRACE_SECONDS = 60  # after SIGTERM, Scrapy finishes what it holds and reports


def crawl_command(job: JobConfig, config: Config) -> list[str]:
    """The child process of one job run."""
    command = [sys.executable, "-m", "crawler.cli"]
    if config.path is not None:
        command += ["--config", str(config.path)]
    command += ["crawl", "--job", job.id]
    for site in job.sites:
        command += ["--site", site]
    return command + list(job.args)


def trigger_for(job: JobConfig) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(job.cron, timezone=job.timezone)


def fingerprint(job: JobConfig) -> str:
    """What the stored job must match to keep its next run time (and so its missed run)."""
    return f"{job.cron} {job.timezone} sites={','.join(job.sites)} {' '.join(job.args)}"


def next_fire_times(job: JobConfig, now: datetime, count: int) -> list[datetime]:
    trigger = trigger_for(job)
    times: list[datetime] = []
    previous = None
    moment = now
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        times.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)
    return times


def run_job(job_id: str, config_path: str | None) -> int:
    """One scheduled run: the crawl in a child process, stopped after the job timeout."""
    config = load_config(config_path)
    job = next((j for j in config.schedule.jobs if j.id == job_id), None)
    if job is None:
        LOG.error("job %s is no longer in the config; nothing run", job_id)
        return 2
    command = crawl_command(job, config)
    timeout = config.schedule.job_timeout_minutes * 60
    LOG.info("job %s: starting %s", job_id, " ".join(command[2:]))
    child = subprocess.Popen(command)
    try:
        status = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        LOG.error("job %s: crawl still running after %d min, stopping it", job_id, timeout // 60)
        child.terminate()
        try:
            child.wait(timeout=TERMINATE_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            # Killed, the crawl wrote no report and sent no alert: the scheduler says it.
            # A crawl that stopped on SIGTERM alerted by itself; nothing is sent twice.
            killed_alert(config, job_id, timeout)
        return 1
    log = LOG.info if status == 0 else LOG.error
    log("job %s: crawl exited with status %d", job_id, status)
    return status


def killed_alert(config: Config, job_id: str, timeout: int) -> None:
    if not config.alerts.urls:
        return
    message = Message(
        RUN_WIDE,
        f"newsarchive critical: job {job_id} killed",
        f"the crawl of job {job_id} ran past {timeout // 60} min, did not stop on SIGTERM "
        f"within {TERMINATE_GRACE_SECONDS} s and was killed: no run report",
    )
    result = deliver(config.alerts.urls, [message])
    for failed in result["failed"]:
        LOG.error("job %s: alert %s failed: %s", job_id, failed["channel"], failed["error"])


def build_scheduler(config: Config) -> Any:
    """A paused background scheduler on the SQLite store, its jobs in step with the config."""
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    store = SQLAlchemyJobStore(url=f"sqlite:///{config.schedule.jobstore}")
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.add_listener(_report_skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    scheduler.start(paused=True)
    sync_jobs(scheduler, config)
    return scheduler


def sync_jobs(scheduler: Any, config: Config) -> None:
    """Add new jobs, update changed ones, drop removed ones; keep unchanged ones' next run
    time, which is what lets a missed run be caught up after a restart."""
    grace = int(config.schedule.misfire_grace_hours * 3600)
    options = {"coalesce": True, "misfire_grace_time": grace, "max_instances": 1}
    wanted = {job.id: job for job in config.schedule.jobs}
    path = str(config.path) if config.path is not None else None
    for stored in scheduler.get_jobs():
        if stored.id not in wanted:
            LOG.info("job %s removed from the config: dropped", stored.id)
            stored.remove()
    for job_id, job in wanted.items():
        stored = scheduler.get_job(job_id)
        name = fingerprint(job)
        if stored is not None and stored.name == name:
            stored.modify(args=[job_id, path], **options)
            continue
        if stored is not None:
            LOG.info("job %s changed: rescheduled", job_id)
        scheduler.add_job(
            JOB_FUNCTION,
            trigger_for(job),
            args=[job_id, path],
            id=job_id,
            name=name,
            replace_existing=True,
            **options,
        )


def _report_skipped(event: Any) -> None:
    LOG.error(
        "job %s: run due at %s skipped (missed beyond the grace time, or still running)",
        event.job_id,
        event.scheduled_run_time,
    )
