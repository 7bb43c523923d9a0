"""The seed page as a reader saw it is the independent truth for the English Futu parser."""

from __future__ import annotations

from pathlib import Path

from crawler.mirror.fixtures import FIXTURES_DIR, load_fixture
from crawler.parsers import parse

CASE = FIXTURES_DIR / "futu" / "en-post-translated"


def _reader_lines() -> list[str]:
    text = Path(CASE / "reader-view.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_archived_text_is_exactly_the_body_a_reader_sees() -> None:
    lines = _reader_lines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Source:")) + 1
    end = lines.index("edit/lambor")
    fixture = load_fixture(CASE)
    article = parse(fixture.url, fixture.body, fixture.headers)
    assert list(article.paragraphs) == lines[start:end]


def test_first_lines_last_lines_and_notices_are_gone() -> None:
    lines = _reader_lines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Source:")) + 1
    end = lines.index("edit/lambor")
    noise = lines[:start] + lines[end:]
    fixture = load_fixture(CASE)
    article = parse(fixture.url, fixture.body, fixture.headers)
    for line in noise:
        assert line not in article.paragraphs
    assert article.title == lines[2] and article.original_title == lines[1]
    assert (article.source, article.author, article.editor) == (
        "Shenzhen.com Tencent News",
        "Cheng Xiaoyi",
        "lambor",
    )
