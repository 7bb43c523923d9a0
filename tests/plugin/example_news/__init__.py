"""A throwaway third site, registered only through the `newsarchive.sites` entry point.

It lives in the test tree to prove that a site outside the package needs no edit inside it:
this registry entry, a parser module, a spider module and a fixture folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.sites import Site, SiteSettings


@dataclass(frozen=True)
class ExampleSettings(SiteSettings):
    base_url: str = "https://news.example.org"


SITE = Site(
    name="example",
    title="Example News",
    settings=ExampleSettings,
    parser="example_news.parser:ExampleParser",
    spider_module="example_news.spider",
    fixtures=Path(__file__).resolve().parent / "fixtures" / "example",
)
