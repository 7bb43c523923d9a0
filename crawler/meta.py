"""The request meta keys that spiders and downloader middlewares share.

A spider puts a fact on a request (this is a revisit, this id may have a capture, fetch this
web-archive capture) and a middleware reads it, or the other way round (the WARC capture of the
response). The keys live here, below both, so that neither imports the other for a string.
Request meta is per request and not persisted: renaming a key changes no stored data.
"""

from __future__ import annotations

from typing import Any

# The WARC capture of the latest response, a WarcRef as a dict (crawler/middlewares/capture.py).
CAPTURE = "newsarchive_capture"
# A stored capture of the same page: an identical payload is written as a `revisit` record.
PREVIOUS_CAPTURE = "newsarchive_previous_capture"
# Look PREVIOUS_CAPTURE up for this article id before the request is sent.
CAPTURE_OF_ID = "newsarchive_capture_of_id"
# The web-archive Capture a replay request fetches (crawler/webarchive/).
WEB_CAPTURE = "newsarchive_web_archive_capture"
# A revisit of an archived article: {"start": ISO time, "removed": bool}.
REVISIT = "newsarchive_revisit"
# A redirect page (an interstitial) was followed once already.
FOLLOWED = "newsarchive_followed_interstitial"


def capture_of(response: Any) -> dict[str, Any] | None:
    """The capture of the response a callback got (None when capture is off or failed)."""
    request = response.request
    if request is None:
        return None
    capture: dict[str, Any] | None = request.meta.get(CAPTURE)
    return capture
