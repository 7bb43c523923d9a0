"""Downloader middleware: a Common Crawl record fetched by byte range becomes the response it
holds (the site's status, headers and body, at the page's own URL), before the WARC capture
and the spider see it. So the project's WARC keeps the capture as the site served it, and the
site parser reads exactly what it reads from a crawl. Other responses pass untouched.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Headers, Response

from crawler.history.commoncrawl import response_of_record
from crawler.history.spider import WEB_CAPTURE

# warcio hands the body decoded: the headers that described its transfer no longer apply
# (left in, Scrapy's decompression would unzip it a second time).
TRANSFER_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class UnwrapWarcRecord:
    """Turns the 206 answer of a record's byte range into the archived response."""

    def process_response(self, request: Request, response: Response) -> Response:
        capture = request.meta.get(WEB_CAPTURE)
        if capture is None or capture.source != "commoncrawl" or response.status != 206:
            return response
        try:
            archived = response_of_record(response.body)
        except ValueError as error:
            # A wrong range or a truncated answer: the data host failed us, said as a 502
            # (Scrapy retries it; in the end it is counted as a server error).
            return response.replace(status=502, body=str(error).encode())
        return response.replace(
            url=archived.url or capture.original,
            status=archived.status,
            headers=Headers(
                [(k, v) for k, v in archived.headers if k.lower() not in TRANSFER_HEADERS]
            ),
            body=archived.body,
        )
