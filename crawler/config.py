"""The one place that reads the configuration file and the environment.

Everything else receives a validated, frozen `Config`. A bad file or setting raises
`ConfigError` naming the key, which the CLI turns into one line on stderr and exit status 2.

The schema is the section dataclasses themselves: each field's name, type and default is one
key of the TOML, with its limits in the field's metadata (`choices`, `minimum`, `maximum`).
`[archive]` is `pipelines.store.StoreOptions` (the storage side owns its settings), each
`[sites.<name>]` is that site's settings class in `crawler.sites`, and the sections below are
the crawl's and the scheduler's. No other module restates a default.

Lookup order: `--config FILE` > `$NEWSARCHIVE_CONFIG` > `./config/newsarchive.toml` > the
built-in defaults (which `config/newsarchive.toml` repeats, a test keeps them equal).
Environment overrides win over the file: `NEWSARCHIVE_ARCHIVE` for the archive location.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.health.options import AlertOptions, HealthOptions, MetricsOptions, MonitorConfig
from crawler.logs import LoggingOptions
from crawler.sites import BASE_URL_SUFFIX, SITE_NAMES, SITES, SiteSettings, at_least, choices
from crawler.webarchive.options import HistoryOptions
from pipelines.read.search import SearchOptions
from pipelines.state.revisits import RevisitPolicy, parse_age
from pipelines.store import StoreOptions
from pipelines.warc import WarcOptions

DEFAULT_CONFIG_PATH = Path("config") / "newsarchive.toml"
SYSTEM_CONFIG_PATH = Path("/etc/newsarchive/newsarchive.toml")
# Settings that hold secrets (apprise URLs carry passwords and tokens): never printed whole.
SECRET_SETTINGS = frozenset({"alerts.urls"})
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)


@dataclass(frozen=True)
class CrawlConfig:
    """`[crawl]`: politeness, retries, rendering, locks and the failure threshold."""

    user_agent: str = DEFAULT_USER_AGENT
    obey_robots_txt: bool = True
    download_delay: float = field(default=0.5, metadata=at_least(0))
    concurrent_requests_per_domain: int = field(default=4, metadata=at_least(1))
    autothrottle: bool = True
    retry_times: int = field(default=3, metadata=at_least(0))
    download_timeout: float = field(default=30, metadata=at_least(1))
    log_level: str = field(default="INFO", metadata=choices("DEBUG", "INFO", "WARNING", "ERROR"))
    render_challenges: bool = False
    chromium_path: str = "/usr/bin/chromium"
    render_timeout: float = field(default=30, metadata=at_least(1))
    lock_dir: str = "./locks"
    max_failure_ratio: float = field(default=0.05, metadata={"minimum": 0, "maximum": 1})
    # No response, item or write for this long: the watchdog stops the crawl in order and
    # reports it interrupted, so a stuck run never holds its site's lock forever.
    stall_timeout: float = field(default=600, metadata=at_least(10))


@dataclass(frozen=True)
class RetryConfig:
    """`[retry]`: failed pages (crawler/outcomes.py, `retried`) are fetched again by later
    runs, whatever the high-water mark says, until they work or `max_attempts` is reached."""

    max_attempts: int = field(default=4, metadata=at_least(1))  # the first fetch included
    # Wait before attempt n+1: backoff_minutes * 2**(n-1); 0 retries at the very next run.
    backoff_minutes: float = field(default=30, metadata=at_least(0))
    # How far back the outcome log is read for pages still owed a retry.
    lookback_days: int = field(default=14, metadata=at_least(1))


@dataclass(frozen=True)
class RevisitConfig:
    """`[revisit]`: archived articles are fetched again at these ages after publication (or
    after their first fetch, for articles archived late) to catch edits and removals; at most
    `budget` per site and run, oldest debt first. `ages = []` turns revisits off."""

    ages: tuple[str, ...] = ("2h", "1d", "7d")
    budget: int = field(default=200, metadata=at_least(0))

    def policy(self, lookback_days: int) -> RevisitPolicy:
        return RevisitPolicy(tuple(sorted(map(parse_age, self.ages))), self.budget, lookback_days)


@dataclass(frozen=True)
class JobConfig:
    """One `[[schedule.jobs]]` entry: a cron expression in a time zone, and what to crawl."""

    id: str = ""
    cron: str = ""
    timezone: str = "Asia/Shanghai"
    sites: tuple[str, ...] = field(default=SITE_NAMES, metadata=choices(*SITE_NAMES))
    args: tuple[str, ...] = ()


# Every site's default jobs (crawler.sites), when the config names none.
DEFAULT_JOBS = tuple(
    JobConfig(id=job_id, cron=cron, sites=(site.name,))
    for site in SITES.values()
    for job_id, cron in site.default_jobs
)


@dataclass(frozen=True)
class ScheduleConfig:
    """`[schedule]`: the job store, the jobs and how long a run may take."""

    jobstore: str = ""  # "" = newsarchive-jobs.sqlite next to the config file
    job_timeout_minutes: int = field(default=240, metadata=at_least(1))
    misfire_grace_hours: float = field(default=6, metadata=at_least(0))
    jobs: tuple[JobConfig, ...] = DEFAULT_JOBS


SECTIONS: dict[str, type[Any]] = {
    "archive": StoreOptions,
    "crawl": CrawlConfig,
    "retry": RetryConfig,
    "revisit": RevisitConfig,
    "schedule": ScheduleConfig,
    "warc": WarcOptions,
    "search": SearchOptions,
    "metrics": MetricsOptions,
    "monitors": MonitorConfig,
    "alerts": AlertOptions,
    "logging": LoggingOptions,
    "history": HistoryOptions,
}
ENV_OVERRIDES = {
    "NEWSARCHIVE_ARCHIVE": ("archive", "location"),
    "NEWSARCHIVE_SPOOL": ("archive", "spool_dir"),
    # Later entries win: the S3-specific / current names over the general / legacy ones.
    "AWS_ENDPOINT_URL": ("archive", "endpoint_url"),
    "AWS_ENDPOINT_URL_S3": ("archive", "endpoint_url"),
    "AWS_DEFAULT_REGION": ("archive", "region"),
    "AWS_REGION": ("archive", "region"),
    "AWS_PROFILE": ("archive", "profile"),
}


class ConfigError(Exception):
    """A configuration problem, worded for the person who has to fix the file."""


@dataclass(frozen=True)
class Config:
    """Validated settings: archive target, crawl politeness, schedule, per-site settings."""

    archive: StoreOptions
    crawl: CrawlConfig
    retry: RetryConfig
    schedule: ScheduleConfig
    sites: Mapping[str, SiteSettings]
    path: Path | None
    warc: WarcOptions = field(default_factory=WarcOptions)
    revisit: RevisitConfig = field(default_factory=RevisitConfig)
    search: SearchOptions = field(default_factory=SearchOptions)
    metrics: MetricsOptions = field(default_factory=MetricsOptions)
    monitors: MonitorConfig = field(default_factory=MonitorConfig)
    alerts: AlertOptions = field(default_factory=AlertOptions)
    logging: LoggingOptions = field(default_factory=LoggingOptions)
    history: HistoryOptions = field(default_factory=HistoryOptions)
    # Where each setting that is not a default came from: "section.key" -> file or $VARIABLE.
    origins: Mapping[str, str] = field(default_factory=dict)

    def site(self, name: str) -> Any:
        """The settings of one site (its own settings class, so its own fields)."""
        return self.sites[name]

    def health(self) -> HealthOptions:
        """What judging a run reads of the config (crawler/health takes plain values)."""
        return HealthOptions(
            self.monitors, self.alerts, self.metrics, self.archive.spool_dir, tuple(self.sites)
        )


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and apply environment overrides; raises ConfigError naming the key."""
    environ = os.environ if environ is None else environ
    chosen = find_config(path, environ)
    raw: dict[str, Any] = {}
    if chosen is not None:
        try:
            raw = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{chosen}: invalid TOML: {error}") from None
        except (UnicodeDecodeError, OSError) as error:
            raise ConfigError(f"{chosen}: cannot read the config: {error}") from None
    return validate(raw, chosen, environ)


def config_locations(environ: Mapping[str, str]) -> tuple[Path, ...]:
    """Where a config is looked for when neither --config nor $NEWSARCHIVE_CONFIG names one,
    in order: the working folder's, the user's (XDG), the system's."""
    home = environ.get("HOME") or str(Path.home())
    xdg = environ.get("XDG_CONFIG_HOME") or str(Path(home) / ".config")
    return (DEFAULT_CONFIG_PATH, Path(xdg) / "newsarchive" / "newsarchive.toml", SYSTEM_CONFIG_PATH)


def find_config(path: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file to read: --config, else $NEWSARCHIVE_CONFIG (either must exist), else
    the first of `config_locations` that exists; None: the defaults alone."""
    named = Path(path) if path else None
    if named is None and environ.get("NEWSARCHIVE_CONFIG"):
        named = Path(environ["NEWSARCHIVE_CONFIG"])
    if named is not None:
        if not named.is_file():
            raise ConfigError(f"config file not found: {named}")
        return named
    return next((p for p in config_locations(environ) if p.is_file()), None)


def validate(raw: dict[str, Any], path: Path | None, environ: Mapping[str, str]) -> Config:
    """A Config from parsed TOML: every key checked against its field, defaults filled in."""
    for section in raw:
        if section not in (*SECTIONS, "sites"):
            raise ConfigError(f"unknown setting '{section}'")
    values = {name: dict(_table(name, raw.get(name, {}))) for name in SECTIONS}
    origins = {f"{name}.{key}": str(path) for name in SECTIONS for key in values[name]}
    for variable, (section, key) in ENV_OVERRIDES.items():
        if environ.get(variable):
            values[section][key] = environ[variable]
            origins[f"{section}.{key}"] = f"${variable}"
    archive = build(StoreOptions, "archive", values["archive"])
    if "://" in archive.location and "@" in archive.location.split("://", 1)[1].split("/", 1)[0]:
        # Never echoed: it holds a secret. Credentials come from the environment or a profile.
        raise ConfigError(
            "setting 'archive.location' must not carry credentials (user:secret@): set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile"
        )
    crawl = build(CrawlConfig, "crawl", values["crawl"])
    retry = build(RetryConfig, "retry", values["retry"])
    schedule = _schedule(values["schedule"], path)
    warc = build(WarcOptions, "warc", values["warc"])
    revisit = build(RevisitConfig, "revisit", values["revisit"])
    search = build(SearchOptions, "search", values["search"])
    metrics = build(MetricsOptions, "metrics", values["metrics"])
    monitors = build(MonitorConfig, "monitors", values["monitors"])
    alerts = build(AlertOptions, "alerts", values["alerts"])
    log_options = build(LoggingOptions, "logging", values["logging"])
    history = build(HistoryOptions, "history", values["history"])
    if metrics.textfile and not metrics.textfile.endswith(".prom"):
        raise ConfigError(
            "setting 'metrics.textfile' must end in .prom (node_exporter reads those)"
        )
    try:
        revisit.policy(retry.lookback_days)
    except ValueError as error:
        raise ConfigError(f"setting 'revisit.ages': {error}") from None
    raw_sites = _table("sites", raw.get("sites", {}))
    for name in raw_sites:
        if name not in SITES:
            raise ConfigError(f"unknown setting 'sites.{name}' (known sites: {', '.join(SITES)})")
    origins.update(
        {
            f"sites.{name}.{key}": str(path)
            for name, table in raw_sites.items()
            for key in (table if isinstance(table, dict) else ())
        }
    )
    sites = {
        name: build(
            site.settings, f"sites.{name}", _table(f"sites.{name}", raw_sites.get(name, {}))
        )
        for name, site in SITES.items()
    }
    return Config(
        archive=archive,
        crawl=crawl,
        retry=retry,
        schedule=schedule,
        sites=sites,
        path=path,
        warc=warc,
        revisit=revisit,
        search=search,
        metrics=metrics,
        monitors=monitors,
        alerts=alerts,
        logging=log_options,
        history=history,
        origins=origins,
    )


def _schedule(values: dict[str, Any], path: Path | None) -> ScheduleConfig:
    jobs = values.pop("jobs", None)
    schedule = build(ScheduleConfig, "schedule", values)
    if jobs is not None:
        if not isinstance(jobs, list):
            raise ConfigError("setting 'schedule.jobs' must be a list")
        schedule = dataclasses.replace(schedule, jobs=_jobs(jobs))
    if not schedule.jobstore:
        # Next to the config file, so the scheduler and cron find the same one.
        folder = path.parent if path is not None else Path(".")
        schedule = dataclasses.replace(schedule, jobstore=str(folder / "newsarchive-jobs.sqlite"))
    return schedule


def _jobs(entries: list[Any]) -> tuple[JobConfig, ...]:
    """Validated [[schedule.jobs]]: unique ids, a valid cron expression and time zone."""
    from apscheduler.triggers.cron import CronTrigger

    jobs, seen = [], set()
    for number, entry in enumerate(entries, 1):
        where = f"schedule.jobs[{number}]"
        job = build(JobConfig, where, _table(where, entry))
        if not job.id or job.id in seen:
            raise ConfigError(f"setting '{where}.id' must be set and unique")
        seen.add(job.id)
        if not job.sites:
            raise ConfigError(f"setting '{where}.sites' may only hold {', '.join(SITE_NAMES)}")
        try:
            ZoneInfo(job.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"setting '{where}.timezone': unknown time zone") from None
        try:
            CronTrigger.from_crontab(job.cron, timezone=job.timezone)
        except ValueError as error:
            raise ConfigError(f"setting '{where}.cron': {error}") from None
        jobs.append(job)
    return tuple(jobs)


def _table(name: str, values: Any) -> Mapping[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(f"setting '{name}' must be a table")
    return values


T = typing.TypeVar("T")


def build(cls: type[T], name: str, values: Mapping[str, Any]) -> T:
    """An instance of a section dataclass from a TOML table, each value checked."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    checked = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"unknown setting '{name}.{key}'")
        checked[key] = _checked(f"{name}.{key}", value, hints[key], fields[key].metadata)
    return cls(**checked)


def _checked(where: str, value: Any, expected: Any, limits: Mapping[str, Any]) -> Any:
    """The value in its field's type, or ConfigError naming the key and what it must be."""
    if get_origin(expected) is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"setting '{where}' must be a list")
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"setting '{where}' must be a list of strings")
        allowed = limits.get("choices")
        if allowed and any(v not in allowed for v in value):
            raise ConfigError(f"setting '{where}' may only hold {', '.join(allowed)}")
        return tuple(value)
    # bool is an int subclass in Python; a number setting must not accept `true`.
    accepted = (int, float) if expected is float else expected
    if isinstance(value, bool) is not (expected is bool) or not isinstance(value, accepted):
        raise ConfigError(f"setting '{where}' must be {_type_name(expected)}")
    allowed = limits.get("choices")
    if allowed and value not in allowed:
        raise ConfigError(f"setting '{where}' must be one of {', '.join(allowed)}")
    low, high = limits.get("minimum"), limits.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"setting '{where}' must be {bounds}")
    if where.endswith(BASE_URL_SUFFIX) and isinstance(value, str):
        if not value.startswith(("http://", "https://")):
            raise ConfigError(f"setting '{where}' must be an http(s) URL")
        value = value.rstrip("/")
    if limits.get("required") and not value:
        raise ConfigError(f"setting '{where}' must not be empty")
    return float(value) if expected is float else value


def _type_name(expected: Any) -> str:
    names = {str: "a string", bool: "true or false", int: "a whole number", float: "a number"}
    return names.get(expected, getattr(expected, "__name__", str(expected)))
