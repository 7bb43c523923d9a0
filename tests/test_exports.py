"""Exports read back with the tools people use: Python's csv and json, DuckDB for Parquet.

The archive is the demo's, run twice: the second run finds one article edited (a version 2)
and one deleted (a removal marker), as sites do.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from pipelines.read.exports import CSV_COLUMNS
from tests.support.commands import REPO, newsarchive
from tests.support.configs import demo_archive as two_demo_runs

RECORD_FIELDS = set(
    json.loads((REPO / "pipelines" / "records" / "record_schema.json").read_text())["properties"]
)


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return two_demo_runs(tmp_path_factory.mktemp("exports"))


def query(sql: str) -> list[tuple]:
    """DuckDB's answer to one query, as an analyst would type it."""
    relation = duckdb.sql(sql)
    assert relation is not None
    return relation.fetchall()


def export(config: Path, *args: str) -> str:
    result = newsarchive("--config", str(config), "export", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_jsonl_to_a_file_has_every_record_field_and_the_removals(
    demo_archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "articles.jsonl"
    assert export(demo_archive, "-o", str(out)) == ""  # -o: nothing on stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 12 and len({(r["site"], r["id"]) for r in rows}) == 12
    assert [r["id"] for r in rows if r["extraction"] == "generic"] == ["flash-16701234-zh-CN"]
    for row in rows:
        assert RECORD_FIELDS | {"removed", "removed_at"} <= set(row), RECORD_FIELDS - set(row)
        assert isinstance(row["tickers"], list) and isinstance(row["machine_translated"], bool)
    (removed,) = [r for r in rows if r["removed"]]
    assert removed["removed_at"] and not any(r["removed_at"] for r in rows if not r["removed"])
    (edited,) = [r for r in rows if r["version"] == 2]
    assert edited["changed_fields"] and edited["seen_at"]
    every = tmp_path / "every.jsonl"
    export(demo_archive, "--all-versions", "-o", str(every))
    assert len(every.read_text(encoding="utf-8").splitlines()) == 13  # and version 1
    assert (
        json.loads(export(demo_archive, "--site", "tencent").splitlines()[0])["site"] == "tencent"
    )


def test_csv_has_the_documented_columns_one_representation_each(
    demo_archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "articles.csv"
    export(demo_archive, "--format", "csv", "-o", str(out))
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    assert len(rows) == 12
    assert [(r["extraction"], r["layout_tried"]) for r in rows if r["extraction"]] == [
        ("generic", "futu.article/origin-content-2022")
    ]
    documented = (REPO / "docs" / "reading.md").read_text(encoding="utf-8")
    assert ", ".join(CSV_COLUMNS) in " ".join(documented.split())  # documented, in this order
    for row in rows:
        assert isinstance(json.loads(row["tickers"]), list)  # a list is always JSON
        assert row["machine_translated"] in ("true", "false")
        assert row["removed"] in ("true", "false")
        assert row["text"] and row["title"] and row["warc_key"].startswith("warc/")
    assert any(json.loads(row["tickers"]) for row in rows)


def test_parquet_reads_back_in_duckdb_with_types_and_partitions(
    demo_archive: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "parquet"
    export(demo_archive, "--format", "parquet", "-o", str(folder))
    assert {p.name for p in folder.iterdir()} == {"site=futu", "site=tencent"}
    assert all(p.name.startswith("month=") for p in (folder / "site=futu").iterdir())
    table = f"read_parquet('{folder}/**/*.parquet', hive_partitioning=true)"
    assert query(f"SELECT count(*) FROM {table}") == [(12,)]
    assert query(f"SELECT id FROM {table} WHERE extraction = 'generic'") == [
        ("flash-16701234-zh-CN",)
    ]
    types = {row[0]: row[1] for row in query(f"DESCRIBE SELECT * FROM {table}")}
    assert types["published"] == "TIMESTAMP WITH TIME ZONE"
    assert types["removed_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["tickers"] == "VARCHAR[]" and types["paragraphs"] == "VARCHAR[]"
    assert types["machine_translated"] == "BOOLEAN" and types["removed"] == "BOOLEAN"
    titles = [t for (t,) in query(f"SELECT title FROM {table} WHERE site = 'tencent'")]
    assert "国家统计局：11月制造业PMI为52.1%" in titles
    assert query(f"SELECT count(*) FROM {table} WHERE removed") == [(1,)]


def test_parquet_without_a_folder_is_a_usage_error(demo_archive: Path) -> None:
    result = newsarchive("--config", str(demo_archive), "export", "--format", "parquet")
    assert result.returncode == 2
    assert result.stderr.strip() == "newsarchive: export --format parquet needs -o FOLDER"


def test_the_readmes_duckdb_query_over_the_records_themselves(demo_archive: Path) -> None:
    records = demo_archive.parent / "archive" / "articles"
    rows = query(
        f"SELECT title, published FROM read_json_auto('{records}/futu/**/*.json') "
        "ORDER BY published DESC LIMIT 10"
    )
    assert len(rows) == 9  # every futu record: 8 articles (1 generic), one in two versions
    assert rows[0][1] > rows[-1][1]  # published is read as a time
