"""The one place that reads the configuration file and the environment.

Everything else receives plain values. A bad file or setting raises `ConfigError` naming the
key, which the CLI turns into one line on stderr and exit status 2.

Lookup order: `--config FILE` > `$NEWSARCHIVE_CONFIG` > `./config/newsarchive.toml` > the
built-in defaults below (which `config/newsarchive.toml` repeats, a test keeps them equal).
Environment overrides win over the file: `NEWSARCHIVE_ARCHIVE` for the archive location.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CONFIG_PATH = Path("config") / "newsarchive.toml"
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)

# section -> key -> (type, default). Types are checked, unknown keys rejected.
SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], Any]]] = {
    "archive": {
        "location": (str, "./archive"),
        "endpoint_url": (str, ""),
        "region": (str, ""),
        "addressing_style": (str, "auto"),
        "profile": (str, ""),
        "spool_dir": (str, "./spool"),
        "upload_concurrency": (int, 8),
        "retry_attempts": (int, 5),
    },
    "crawl": {
        "user_agent": (str, DEFAULT_USER_AGENT),
        "obey_robots_txt": (bool, True),
        "download_delay": ((int, float), 0.5),
        "concurrent_requests_per_domain": (int, 4),
        "autothrottle": (bool, True),
        "retry_times": (int, 3),
        "download_timeout": ((int, float), 30),
        "log_level": (str, "INFO"),
        "render_challenges": (bool, False),
        "chromium_path": (str, "/usr/bin/chromium"),
        "render_timeout": ((int, float), 30),
        "lock_dir": (str, "./locks"),
        "max_failure_ratio": ((int, float), 0.05),
    },
    "schedule": {
        "jobstore": (str, ""),
        "job_timeout_minutes": (int, 240),
        "misfire_grace_hours": ((int, float), 6),
        "jobs": (list, None),  # None = DEFAULT_JOBS; entries checked against JOB_SCHEMA
    },
}
# One [[schedule.jobs]] entry: a cron expression in a time zone, and what to crawl.
JOB_SCHEMA: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "id": (str, ""),
    "cron": (str, ""),
    "timezone": (str, "Asia/Shanghai"),
    "sites": (list, ["futu", "tencent"]),
    "args": (list, []),
}
DEFAULT_JOBS = [
    {"id": "futu-nightly", "cron": "0 2 * * *", "timezone": "Asia/Shanghai",
     "sites": ["futu"], "args": []},
    {"id": "tencent-6h", "cron": "0 */6 * * *", "timezone": "Asia/Shanghai",
     "sites": ["tencent"], "args": []},
]  # fmt: skip
SITE_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], Any]]] = {
    "futu": {
        "base_url": (str, "https://news.futunn.com"),
        "languages": (list, ["zh-CN", "zh-HK", "en"]),
        "sources": (list, ["sitemaps", "headlines", "flash"]),
        "headline_size": (int, 48),
        "flash_page_size": (int, 30),
        "max_pages": (int, 5),
    },
    "tencent": {
        "base_url": (str, "https://news.qq.com"),
        "api_base_url": (str, "https://i.news.qq.com"),
        "hot_base_url": (str, "https://r.inews.qq.com"),
        "channels": (list, ["news_news_finance", "news_news_tech"]),
        "hot_ranking": (bool, True),
        "item_count": (int, 20),
        "max_pages": (int, 5),
    },
}
LIST_CHOICES = {
    ("sites.futu", "languages"): ("zh-CN", "zh-HK", "en"),
    ("sites.futu", "sources"): ("sitemaps", "headlines", "flash"),
}
CHOICES = {
    ("archive", "addressing_style"): ("auto", "path", "virtual"),
    ("crawl", "log_level"): ("DEBUG", "INFO", "WARNING", "ERROR"),
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
    """Validated settings: archive target, crawl politeness, per-site base URLs."""

    archive: dict[str, Any]
    crawl: dict[str, Any]
    sites: dict[str, dict[str, Any]]
    path: Path | None
    schedule: dict[str, Any] = field(default_factory=dict)

    def site(self, name: str) -> dict[str, Any]:
        return self.sites[name]


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and apply environment overrides; raises ConfigError naming the key."""
    environ = os.environ if environ is None else environ
    chosen = Path(path) if path else None
    if chosen is None and environ.get("NEWSARCHIVE_CONFIG"):
        chosen = Path(environ["NEWSARCHIVE_CONFIG"])
    if chosen is not None and not chosen.is_file():
        raise ConfigError(f"config file not found: {chosen}")
    if chosen is None and DEFAULT_CONFIG_PATH.is_file():
        chosen = DEFAULT_CONFIG_PATH
    raw: dict[str, Any] = {}
    if chosen is not None:
        try:
            raw = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{chosen}: invalid TOML: {error}") from None
    return _validate(raw, chosen, environ)


def _validate(raw: dict[str, Any], path: Path | None, environ: Mapping[str, str]) -> Config:
    for section in raw:
        if section not in (*SCHEMA, "sites"):
            raise ConfigError(f"unknown setting '{section}'")
    sections = {name: _section(name, raw.get(name, {}), schema) for name, schema in SCHEMA.items()}
    raw_sites = raw.get("sites", {})
    if not isinstance(raw_sites, dict):
        raise ConfigError("setting 'sites' must be a table")
    for site in raw_sites:
        if site not in SITE_SCHEMA:
            raise ConfigError(f"unknown setting 'sites.{site}' (known sites: futu, tencent)")
    sites = {
        name: _section(f"sites.{name}", raw_sites.get(name, {}), schema)
        for name, schema in SITE_SCHEMA.items()
    }
    for variable, (section, key) in ENV_OVERRIDES.items():
        if environ.get(variable):
            sections[section][key] = environ[variable]
    for site, values in sites.items():
        for key in [k for k in values if k.endswith("base_url")]:
            if not values[key].startswith(("http://", "https://")):
                raise ConfigError(f"setting 'sites.{site}.{key}' must be an http(s) URL")
            values[key] = values[key].rstrip("/")
        if values["max_pages"] < 1:
            raise ConfigError(f"setting 'sites.{site}.max_pages' must be at least 1")
    if sections["archive"]["upload_concurrency"] < 1:
        raise ConfigError("setting 'archive.upload_concurrency' must be at least 1")
    if sections["crawl"]["concurrent_requests_per_domain"] < 1:
        raise ConfigError("setting 'crawl.concurrent_requests_per_domain' must be at least 1")
    if not sections["archive"]["location"]:
        raise ConfigError("setting 'archive.location' must not be empty")
    schedule = sections["schedule"]
    schedule["jobs"] = _jobs(DEFAULT_JOBS if schedule["jobs"] is None else schedule["jobs"])
    if not schedule["jobstore"]:
        # Next to the config file, so the scheduler and cron find the same one.
        folder = path.parent if path is not None else Path(".")
        schedule["jobstore"] = str(folder / "newsarchive-jobs.sqlite")
    if not 0 <= sections["crawl"]["max_failure_ratio"] <= 1:
        raise ConfigError("setting 'crawl.max_failure_ratio' must be between 0 and 1")
    return Config(
        archive=sections["archive"],
        crawl=sections["crawl"],
        sites=sites,
        path=path,
        schedule=schedule,
    )


def _jobs(entries: list[Any]) -> list[dict[str, Any]]:
    """Validated [[schedule.jobs]]: unique ids, a valid cron expression and time zone."""
    from apscheduler.triggers.cron import CronTrigger

    jobs, seen = [], set()
    for number, entry in enumerate(entries, 1):
        job = _section(f"schedule.jobs[{number}]", entry, JOB_SCHEMA)
        where = f"schedule.jobs[{number}]"
        if not job["id"] or job["id"] in seen:
            raise ConfigError(f"setting '{where}.id' must be set and unique")
        seen.add(job["id"])
        unknown = [s for s in job["sites"] if s not in SITE_SCHEMA]
        if unknown or not job["sites"]:
            raise ConfigError(f"setting '{where}.sites' may only hold futu, tencent")
        try:
            ZoneInfo(job["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"setting '{where}.timezone': unknown time zone") from None
        try:
            CronTrigger.from_crontab(job["cron"], timezone=job["timezone"])
        except ValueError as error:
            raise ConfigError(f"setting '{where}.cron': {error}") from None
        jobs.append(job)
    return jobs


def _section(name: str, values: Any, schema: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(f"setting '{name}' must be a table")
    out = {key: default for key, (_, default) in schema.items()}
    for key, value in values.items():
        if key not in schema:
            raise ConfigError(f"unknown setting '{name}.{key}'")
        expected, _ = schema[key]
        # bool is an int subclass in Python; a number setting must not accept `true`.
        if isinstance(value, bool) and expected is not bool:
            raise ConfigError(f"setting '{name}.{key}' must be {_type_name(expected)}")
        if not isinstance(value, expected):
            raise ConfigError(f"setting '{name}.{key}' must be {_type_name(expected)}")
        if expected is list and key != "jobs" and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"setting '{name}.{key}' must be a list of strings")
        choices = CHOICES.get((name, key))
        if choices and value not in choices:
            raise ConfigError(f"setting '{name}.{key}' must be one of {', '.join(choices)}")
        allowed = LIST_CHOICES.get((name, key))
        if allowed and any(v not in allowed for v in value):
            raise ConfigError(f"setting '{name}.{key}' may only hold {', '.join(allowed)}")
        out[key] = value
    return out


def _type_name(expected: Any) -> str:
    names = {str: "a string", bool: "true or false", int: "a whole number", list: "a list"}
    if isinstance(expected, tuple):
        return "a number"
    return names.get(expected, expected.__name__)
