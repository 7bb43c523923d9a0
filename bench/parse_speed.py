"""Parse speed and cleanliness of our site parsers vs trafilatura.extract, on the same pages.

    pip install -r bench/requirements.txt && python bench/parse_speed.py [--repeat 30]

For every fixture that a layout of its site parser reads (the pages that go to the generic
extractor are trafilatura itself): median wall time per page of `crawler.parsers.parse` and
of `trafilatura.extract` (given the page as decoded text, its best case), their ratio, and how
many of the page's `must_not_contain` boilerplate snippets each output still holds. The
`*-full-size` fixtures are the real-size pages (about 90-110 KiB) of each era.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura

from crawler.mirror.fixtures import iter_fixtures
from crawler.parsers import parse
from crawler.parsers.text import decode_page


def median_seconds(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    options = argparse.ArgumentParser()
    options.add_argument("--repeat", type=int, default=30)
    repeat = options.parse_args().repeat
    widths = ((36, "<"), (5, ">"), (8, ">"), (9, ">"), (6, ">"), (28, ">"))
    header = ("page", "KiB", "ours ms", "trafi ms", "ratio", "boilerplate left ours/trafi")
    print(" ".join(f"{h:{a}{w}}" for h, (w, a) in zip(header, widths, strict=True)))
    ratios, ours_left, theirs_left = [], 0, 0
    for fixture in iter_fixtures():
        expected = fixture.expected()
        if not fixture.read_by_layout:
            continue
        _, page_text = decode_page(fixture.body, fixture.headers)
        ours = median_seconds(partial(parse, fixture.url, fixture.body, fixture.headers), repeat)
        theirs = median_seconds(partial(trafilatura.extract, page_text, url=fixture.url), repeat)
        our_text = parse(fixture.url, fixture.body, fixture.headers).text
        their_text = trafilatura.extract(page_text, url=fixture.url) or ""
        snippets = expected.get("must_not_contain", [])
        left_ours = sum(s in our_text for s in snippets)
        left_theirs = sum(s in their_text for s in snippets)
        ours_left += left_ours
        theirs_left += left_theirs
        ratios.append(theirs / ours)
        left = f"{left_ours}/{left_theirs} of {len(snippets)}"
        print(
            f"{fixture.name:36} {len(fixture.body) / 1024:5.0f} {ours * 1000:8.2f} "
            f"{theirs * 1000:9.2f} {theirs / ours:6.1f} {left:>28}"
        )
    print(
        f"median speed-up over trafilatura: {statistics.median(ratios):.1f}x "
        f"(min {min(ratios):.1f}x, target >= 5x)"
    )
    print(f"boilerplate snippets left: ours {ours_left}, trafilatura {theirs_left}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
