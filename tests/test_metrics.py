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


def folder_samples(folder: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """What node_exporter's textfile collector serves: every `*.prom` of the folder, merged;
    a series in two files would be an error there, so it is one here."""
    merged: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for path in sorted(folder.glob("*.prom")):
        found = samples(path)
        assert not set(found) & set(merged), f"{path.name} repeats series of another file"
        merged.update(found)
    return merged


def test_each_sites_series_survive_the_other_sites_runs_with_site_and_job_labels(
    tmp_path: Path, mirror: MirrorServer
) -> None:
    textfile = tmp_path / "textfile" / "newsarchive.prom"
    textfile.parent.mkdir()
    config = config_with_metrics(tmp_path, mirror, str(textfile))
    futu = newsarchive("--config", str(config), "crawl", "--url", FUTU_EN.url, "--job", "nightly")
    assert futu.returncode == 0, futu.stderr[-2000:]
    # The README's one cron line per site: Tencent's run comes next, through `scrapy crawl`.
    done = scrapy(
        "crawl", "tencent", "-a", f"url={TENCENT_VIDEO.url}", "-s", f"NEWSARCHIVE_CONFIG={config}"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in textfile.parent.iterdir()) == [
        "newsarchive-futu-nightly.prom",
        "newsarchive-tencent.prom",  # no temporary file left
    ]
    found = folder_samples(textfile.parent)
    futu_labels = (("site", "futu"), ("job", "nightly"))
    tencent_labels = (("site", "tencent"), ("job", ""))

    def key(name: str, labels: tuple[tuple[str, str], ...], *more: tuple[str, str]) -> tuple:
        return (name, tuple(sorted((*labels, *more))))

    assert found[key("newsarchive_run_pages", futu_labels, ("counter", "archived"))] == 1
    assert found[key("newsarchive_run_outcomes", futu_labels, ("outcome", "parsed"))] == 1
    assert found[key("newsarchive_run_pages", tencent_labels, ("counter", "not_articles"))] == 1
    for labels in (futu_labels, tencent_labels):
        assert found[key("newsarchive_run_exit_status", labels)] == 0
        assert found[key("newsarchive_run_end_timestamp_seconds", labels)] > 1.7e9
    info = sorted(k for k in found if k[0] == "newsarchive_run_info")
    assert info == [
        key(
            "newsarchive_run_info",
            futu_labels,
            ("command", "crawl"),
            ("mode", "urls"),
            ("status", "ok"),
        ),
        key(
            "newsarchive_run_info",
            tencent_labels,
            ("command", "scrapy crawl"),
            ("mode", "urls"),
            ("status", "ok"),
        ),
    ]


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
    result = newsarchive(
        "--config", str(config), "crawl", "--url", FUTU_EN.url, "--job", "futu-nightly"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (report,) = [json.loads(p.read_text()) for p in (tmp_path / "archive" / "runs").rglob("*.json")]
    assert (report["kind"], report["job"]) == ("urls", "futu-nightly")
    loaded = load_config(config)
    job = loaded.schedule.jobs[0]
    command = crawl_command(job, loaded)
    at = command.index("crawl")
    assert command[at : at + 3] == ["crawl", "--job", job.id]  # the scheduler says which job


def test_the_mode_label_is_the_runs_kind(tmp_path: Path) -> None:
    from crawler.health.metrics import write_metrics

    report = {
        "command": "crawl",
        "mode": "discovery",
        "kind": "backfill",
        "job": None,
        "status": "ok",
        "exit_status": 0,
        "ended": "2026-12-07T04:00:00+00:00",
        "sites": {"futu": {"archived": 3}},
    }
    write_metrics(str(tmp_path / "newsarchive.prom"), report)
    found = samples(tmp_path / "newsarchive-futu.prom")
    (info,) = [labels for name, labels in found if name == "newsarchive_run_info"]
    assert dict(info)["mode"] == "backfill"
