"""Publication times as aware datetimes.

The sites show Beijing/Hong Kong time (UTC+8, no daylight saving), so a fixed offset is exact.
Some English pages omit the year ("May 8 16:12"); the year is then taken from the HTTP
`Date` header of the response, stepping back one year if that would put the article in the
future (a January fetch of a December article).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from crawler.items import BEIJING
from crawler.parsers.text import header_value

_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")

WITH_YEAR = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",  # 2009-2018 qq.com pages: no space before the time
    "%Y年%m月%d日%H:%M",
    "%b %d, %Y %H:%M",
)
# "2025-10-16 20:22:15", "2025/09/17 10:32", "2016年10月14日07:17": year first, all numbers.
NUMERIC_TIME = re.compile(
    r"((?:19|20)\d\d)(?:-|/|年)(\d{1,2})(?:-|/|月)(\d{1,2})日? ?(\d{1,2}):(\d{2})(?::(\d{2}))?"
)
WITHOUT_YEAR = ("%b %d %H:%M", "%m/%d %H:%M", "%m月%d日 %H:%M")


def response_date(headers: Mapping[str, str]) -> datetime | None:
    """The server's `Date` header as an aware datetime, or None when absent or malformed."""
    raw = header_value(headers, "date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None


def parse_local_time(
    text: str,
    headers: Mapping[str, str],
    with_year: Sequence[str] = WITH_YEAR,
    without_year: Sequence[str] = WITHOUT_YEAR,
) -> datetime | None:
    """Parse a time shown on the page in Beijing time; None if no known format matches."""
    text = " ".join(text.split())
    numeric = NUMERIC_TIME.fullmatch(text)  # the common forms, without strptime's tries
    if numeric is not None:
        year, month, day, hour, minute, second = (int(p or 0) for p in numeric.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)
        except ValueError:
            return None
    # strptime raises on every format that does not fit; skip the ones that cannot.
    has_year = _YEAR.search(text) is not None
    for fmt in with_year if has_year else ():
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=BEIJING)
        except ValueError:
            continue
    served = response_date(headers)
    if served is None:
        return None
    served = served.astimezone(BEIJING)
    for fmt in without_year:
        try:
            # Parse with a leap year so "Feb 29" is accepted before the real year is known.
            partial = datetime.strptime(f"2000 {text}", f"%Y {fmt}")
        except ValueError:
            continue
        for year in (served.year, served.year - 1):
            try:
                candidate = partial.replace(year=year, tzinfo=BEIJING)
            except ValueError:
                continue
            if candidate <= served + timedelta(days=1):
                return candidate
    return None


# A time inside a longer line ("http://news.qq.com  2009年03月12日08:03  新华网"): the
# 2008-2012 pages print source, site and time in one bar with no element per field.
EMBEDDED_TIME = re.compile(
    r"(?<!\d)((?:19|20)\d\d)(?:年|-|/)(\d{1,2})(?:月|-|/)(\d{1,2})日?\s*"
    r"(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?"
)


def find_local_time(text: str) -> datetime | None:
    """The first Beijing time written anywhere in `text`, or None."""
    found = EMBEDDED_TIME.search(text)
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)
    except ValueError:
        return None
