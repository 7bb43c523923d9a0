"""`[metrics] textfile`: each run's counters for node_exporter's textfile collector."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.mirror.server import MirrorServer
from tests.support.commands import newsarchive, scrapy
from tests.support.configs import mirror_config

FUTU_EN = load_fixture(FIXTURES_DIR / "futu" / "en-post-translated")
TENCENT_VIDEO = load_fixture(FIXTURES_DIR / "tencent" / "video")


def samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a textfile, as Prometheus' own parser reads it."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
    }


def config_with_metrics(tmp_path: Path, mirror: MirrorServer, textfile: str) -> Path:
    config = mirror_config(tmp_path / "newsarchive.toml", mirror, tmp_path / "archive")
    config.write_text(config.read_text() + f'\n[metrics]\ntextfile = "{textfile}"\n')
    return config


def test_a_crawl_writes_its_counters_in_the_textfile_format(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    textfile = tmp_path / "textfile" / "newsarchive.prom"
    textfile.parent.mkdir()
    config = config_with_metrics(tmp_path, mirror, str(textfile))
    result = newsarchive("--config", str(config), "crawl", "--url", FUTU_EN.url,
                         "--url", TENCENT_VIDEO.url)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    found = samples(textfile)
    assert found[("newsarchive_run_pages", (("counter", "archived"), ("site", "futu")))] == 1
    assert found[("newsarchive_run_pages", (("counter", "not_articles"), ("site", "tencent")))] == 1
    assert found[("newsarchive_run_outcomes", (("outcome", "parsed"), ("site", "futu")))] == 1
    assert found[("newsarchive_run_exit_status", ())] == 0
    assert found[("newsarchive_run_end_timestamp_seconds", ())] > 1.7e9
    info = [k for k in found if k[0] == "newsarchive_run_info"]
    assert info == [("newsarchive_run_info",
                     (("command", "crawl"), ("mode", "urls"), ("status", "ok")))]  # fmt: skip
    assert [p.name for p in textfile.parent.iterdir()] == ["newsarchive.prom"]  # no temp left

    # `scrapy crawl` writes it too, replacing the previous run's figures.
    done = scrapy("crawl", "tencent", "-a", f"url={TENCENT_VIDEO.url}",
                  "-s", f"NEWSARCHIVE_CONFIG={config}")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = samples(textfile)
    assert ("newsarchive_run_pages", (("counter", "archived"), ("site", "futu"))) not in found
    assert found[("newsarchive_run_pages", (("counter", "not_articles"), ("site", "tencent")))] == 1


def test_a_metrics_file_that_cannot_be_written_never_fails_the_crawl(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    config = config_with_metrics(tmp_path, mirror, str(tmp_path / "missing" / "x.prom"))
    result = newsarchive("--config", str(config), "crawl", "--url", FUTU_EN.url)
    assert result.returncode == 0 and "metrics not written" in result.stderr


def test_a_textfile_not_ending_in_prom_is_a_configuration_error(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    config = config_with_metrics(tmp_path, mirror, str(tmp_path / "metrics.txt"))
    result = newsarchive("--config", str(config), "crawl", "--url", FUTU_EN.url)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("newsarchive: setting 'metrics.textfile' must end")


def test_run_reports_say_their_kind_and_scheduler_job(tmp_path: Path, mirror: MirrorServer) -> None:
    import json

    from crawler.config import load_config
    from crawler.schedule import crawl_command

    config = mirror_config(tmp_path / "newsarchive.toml", mirror, tmp_path / "archive")
    result = newsarchive("--config", str(config), "crawl", "--url", FUTU_EN.url,
                         "--job", "futu-nightly")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    (report,) = [json.loads(p.read_text()) for p in (tmp_path / "archive" / "runs").rglob("*.json")]
    assert (report["kind"], report["job"]) == ("urls", "futu-nightly")
    loaded = load_config(config)
    job = loaded.schedule.jobs[0]
    command = crawl_command(job, loaded)
    at = command.index("crawl")
    assert command[at : at + 3] == ["crawl", "--job", job.id]  # the scheduler says which job
