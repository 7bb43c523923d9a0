"""Why a fetched page did not become an article.

Three different outcomes a crawl must count separately, because they call for different
actions: a parse failure means our parser is wrong (fix the code), a challenge means the site
refused us (back off or render), a non-article is normal (videos, galleries, paywalls).
"""

from __future__ import annotations


class PageRejected(Exception):
    """Base of every 'this page is not an archivable article' outcome."""

    reason = "rejected"

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"{detail} ({url})")
        self.url = url
        self.detail = detail


class ParseError(PageRejected):
    """The page looks like an article but a required field could not be extracted."""

    reason = "parse_error"

    def __init__(self, url: str, field: str, detail: str = "") -> None:
        message = f"cannot extract {field!r}" + (f": {detail}" if detail else "")
        super().__init__(url, message)
        self.field = field


class MovedTo(PageRejected):
    """A redirect interstitial (a tiny page whose script sends the browser on): the article
    is at `target`. The crawl follows it once; it is not a rejection of the article."""

    reason = "moved"

    def __init__(self, url: str, target: str) -> None:
        super().__init__(url, f"a redirect page sending the browser to {target}")
        self.target = target


class LayoutChanged(PageRejected):
    """A real page of the site (not a challenge) that matches no known layout: no article
    container, or less text than any real page of its kind has. Counted apart from parse
    errors, because it usually means the site changed its pages, not that one page is odd."""

    reason = "layout_changed"

    def __init__(self, url: str, detail: str, layout: str | None = None) -> None:
        super().__init__(url, f"{detail} (tried {layout})" if layout else detail)
        # The layout the page was tried against (`<parser>/<layout>`), for the generic
        # extractor's record and the monitors: which era stopped matching.
        self.layout = layout


class Removed(PageRejected):
    """The site says the article is gone: a "deleted / does not exist" page in its chrome.
    Not a layout change (nothing to fix) and not a failure: on a revisit it is a removal."""

    reason = "removed"


class BlockedByChallenge(PageRejected):
    """The site answered with an anti-bot JavaScript challenge instead of the article."""

    reason = "blocked"


class NotAnArticle(PageRejected):
    """A real page of the site that is not a text article (video, gallery, paywalled item)."""

    reason = "not_article"

    def __init__(self, url: str, kind: str) -> None:
        super().__init__(url, f"not a text article: {kind}")
        self.kind = kind


class UnsupportedURL(PageRejected):
    """No site parser recognises this URL."""

    reason = "unsupported_url"
