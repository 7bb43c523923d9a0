"""Configuration: defaults, the default file, environment overrides, one-line errors."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from crawler.config import DEFAULT_JOBS, SECTIONS, ConfigError, load_config, validate
from crawler.sites import SITES
from tests.support.commands import REPO, newsarchive, run, scrapy


def test_default_file_repeats_the_built_in_defaults() -> None:
    from_file = load_config(REPO / "config" / "newsarchive.toml", environ={})
    built_in = validate({}, from_file.path, environ={})  # defaults resolved against that path
    for section, schema in SECTIONS.items():
        for key in (f.name for f in dataclasses.fields(schema)):
            assert getattr(getattr(from_file, section), key) == getattr(
                getattr(built_in, section), key
            ), key
    assert from_file.schedule.jobs == DEFAULT_JOBS
    for site, entry in SITES.items():
        assert from_file.site(site).base_url == entry.origins["base_url"]


def test_s3_example_is_valid() -> None:
    config = load_config(REPO / "config" / "s3.example.toml", environ={})
    assert config.archive.location.startswith("s3://")
    assert config.archive.addressing_style == "path"


def test_environment_overrides_the_archive_location(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[archive]\nlocation = "/from/file"\n')
    assert load_config(path, environ={}).archive.location == "/from/file"
    env = {"NEWSARCHIVE_ARCHIVE": "s3://bucket/prefix"}
    assert load_config(path, environ=env).archive.location == "s3://bucket/prefix"


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[sites.tencent]\nbase_url = "http://127.0.0.1:9/x/"\n')
    config = load_config(None, environ={"NEWSARCHIVE_CONFIG": str(path)})
    assert config.site("tencent").base_url == "http://127.0.0.1:9/x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[archive]\nlocaton = "x"\n', "unknown setting 'archive.locaton'"),
        ("[crawling]\n", "unknown setting 'crawling'"),
        ('[sites.sina]\nbase_url = "https://x"\n', "unknown setting 'sites.sina'"),
        ("[crawl]\ndownload_delay = true\n", "setting 'crawl.download_delay' must be a number"),
        ('[crawl]\nobey_robots_txt = "yes"\n', "'crawl.obey_robots_txt' must be true or false"),
        ("[crawl]\nconcurrent_requests_per_domain = 0\n", "must be at least 1"),
        ('[archive]\naddressing_style = "fast"\n', "must be one of auto, path, virtual"),
        ('[sites.futu]\nbase_url = "news.futunn.com"\n', "'sites.futu.base_url' must be an http"),
        ("[archive\n", "invalid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(path, environ={})


def test_cli_reports_a_bad_key_in_one_line_with_status_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[crawl]\nuser_agnet = "x"\n')
    result = newsarchive("--config", str(path), "crawl", "--url", "https://news.qq.com/rain/a/1")
    assert result.returncode == 2
    assert result.stderr.strip() == "newsarchive: unknown setting 'crawl.user_agnet'"


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    result = newsarchive("--config", str(tmp_path / "none.toml"), "demo")
    assert result.returncode == 2
    assert "config file not found" in result.stderr


def test_scrapy_crawl_with_a_bad_config_stops_before_crawling(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[crawl]\nretry_times = 'many'\n")
    result = scrapy("crawl", "tencent", "-a", "url=x", "-s", f"NEWSARCHIVE_CONFIG={path}")
    assert result.returncode == 2
    assert "setting 'crawl.retry_times' must be a whole number" in result.stderr
    assert "Spider opened" not in result.stderr


def test_the_config_is_looked_for_in_the_documented_order(tmp_path: Path) -> None:
    from crawler.config import SYSTEM_CONFIG_PATH, config_locations, find_config

    xdg = tmp_path / "xdg"
    assert config_locations({"XDG_CONFIG_HOME": str(xdg)}) == (
        Path("config") / "newsarchive.toml",
        xdg / "newsarchive" / "newsarchive.toml",
        SYSTEM_CONFIG_PATH,
    )
    assert config_locations({"HOME": str(tmp_path)})[1] == (
        tmp_path / ".config" / "newsarchive" / "newsarchive.toml"
    )
    named = tmp_path / "named.toml"
    named.write_text("", encoding="utf-8")
    env = tmp_path / "env.toml"
    env.write_text("", encoding="utf-8")
    assert find_config(named, {"NEWSARCHIVE_CONFIG": str(env)}) == named
    assert find_config(None, {"NEWSARCHIVE_CONFIG": str(env)}) == env
    with pytest.raises(ConfigError, match="config file not found"):
        find_config(None, {"NEWSARCHIVE_CONFIG": str(tmp_path / "missing.toml")})


def test_an_installed_newsarchive_finds_the_users_config_and_says_where_each_setting_came_from(
    tmp_path: Path,
) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "newsarchive").mkdir(parents=True)
    user_config = xdg / "newsarchive" / "newsarchive.toml"
    user_config.write_text(
        f'[archive]\nlocation = "{tmp_path / "archive"}"\n'
        '[alerts]\nurls = ["mailto://night:s3cret-pass@mail.example.org"]\n',
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"  # no ./config/ here: the user's config is found
    elsewhere.mkdir()
    result = run(
        [sys.executable, "-m", "crawler.cli", "config"],
        env={
            "XDG_CONFIG_HOME": str(xdg),
            "NEWSARCHIVE_SPOOL": str(tmp_path / "spool"),
            "PYTHONPATH": str(REPO),
        },
        cwd=elsewhere,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"# config file: {user_config}"
    assert f'location = "{tmp_path / "archive"}"  # {user_config}' in lines
    assert f'spool_dir = "{tmp_path / "spool"}"  # $NEWSARCHIVE_SPOOL' in lines
    assert "download_delay = 0.5  # default" in lines
    assert 'urls = ["mailto://***"]  # ' + str(user_config) in lines
    assert "s3cret" not in result.stdout + result.stderr
