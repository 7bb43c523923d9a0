"""`newsarchive config`: the effective settings, and where each came from.

A setting comes from the config file that was found (--config, $NEWSARCHIVE_CONFIG,
./config/newsarchive.toml, $XDG_CONFIG_HOME/newsarchive/newsarchive.toml,
/etc/newsarchive/newsarchive.toml: the first that exists), from an environment variable, or
is the default. Settings that hold secrets are shown by scheme only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from typing import Any

from crawler.config import SECRET_SETTINGS, SECTIONS, Config, config_locations
from crawler.stats import Exit


def add_arguments(commands: Any) -> None:
    commands.add_parser("config", help="print the effective settings and where each came from")


def cmd_config(args: argparse.Namespace, config: Config) -> int:
    found = str(config.path) if config.path else "none (defaults only)"
    print(f"# config file: {found}")
    print(
        f"# looked for, in order: --config, $NEWSARCHIVE_CONFIG, "
        f"{', '.join(str(p) for p in config_locations(os.environ))}"
    )
    tables: list[tuple[str, Any]] = [(name, getattr(config, name)) for name in SECTIONS]
    tables += [(f"sites.{name}", settings) for name, settings in config.sites.items()]
    for table, values in tables:
        print(f"\n[{table}]")
        for field in dataclasses.fields(values):
            key = f"{table}.{field.name}"
            shown = toml_value(masked(key, getattr(values, field.name)))
            print(f"{field.name} = {shown}  # {config.origins.get(key, 'default')}")
    return Exit.OK


def masked(key: str, value: Any) -> Any:
    """A secret setting by scheme only: `mailto://***` for a mail channel's URL."""
    if key not in SECRET_SETTINGS:
        return value
    if isinstance(value, tuple):
        return tuple(masked(key, v) for v in value)
    return f"{str(value).split('://', 1)[0]}://***" if value else value


def toml_value(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


COMMANDS = {"config": cmd_config}
