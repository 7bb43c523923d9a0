"""The example site's parser: `https://news.example.org/story/<n>` pages, one <article>."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from lxml import html

from crawler.items import Article
from crawler.parsers.base import PageRef
from crawler.parsers.errors import ParseError

URL = re.compile(r"^https?://news\.example\.org/story/(?P<id>\d+)(?:[/?#]|$)")


class ExampleParser:
    site = "example"
    name = "example.article"
    version = "0.1.0"
    ready_selector = None

    def identify(self, url: str) -> PageRef | None:
        match = URL.match(url)
        if not match:
            return None
        ident = match["id"]
        return PageRef(self.site, ident, f"https://news.example.org/story/{ident}", "en")

    def parse(self, url: str, body: bytes, headers: Mapping[str, str]) -> Article:
        ref = self.identify(url)
        if ref is None:
            raise ParseError(url, "url", "not an example story URL")
        root = html.document_fromstring(body.decode("utf-8"))
        paragraphs = tuple(p.text_content().strip() for p in root.cssselect("article p"))
        stamp = root.cssselect("time")
        if not stamp:
            raise ParseError(url, "published", "no <time>")
        return Article(
            site=self.site,
            id=ref.id,
            url=ref.url,
            title=root.cssselect("h1")[0].text_content().strip(),
            paragraphs=paragraphs,
            published=datetime.fromisoformat(stamp[0].get("datetime")),
            language=ref.language,
            parser=self.name,
            parser_version=self.version,
        )
