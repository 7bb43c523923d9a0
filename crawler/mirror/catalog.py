"""What the local mirror lists: every site's sample pages plus generated articles, in the
listing shapes each site uses (its mirror module, named in crawler/sites.py).

A site's mirror module provides `listed(fixture)`, `article_url(item)`,
`generated_num(n, when)` and `handlers(items)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from crawler.config import Config
from crawler.mirror.fixtures import Fixture
from crawler.mirror.listing import Listed
from crawler.mirror.server import Handler, MirrorServer, Route, mirror_path
from crawler.parsers import identify
from crawler.sites import SITES


def _mirrors() -> dict[str, Any]:
    """The mirror module of every site that has one, in registry order."""
    return {name: site.load_mirror() for name, site in SITES.items() if site.mirror}


def generated(templates: list[Listed], count: int, newest: datetime, mirror: Any) -> list[Listed]:
    """`count` more articles cloned from one site's templates, one minute apart going back
    from newest, numbered the way that site's mirror module numbers them."""
    out = []
    for n in range(count):
        template = templates[n % len(templates)]
        when = newest - timedelta(minutes=n + 1)
        num = mirror.generated_num(n, when)
        out.append(
            dataclasses.replace(
                template,
                num=num,
                title=f"{template.title} #{n}",
                published=when,
                is_article=True,
                after_challenge=None,
            )
        )
    return out


class Catalog:
    """Pages and listing handlers for the mirror."""

    def __init__(self, fixtures: Iterable[Fixture], extra_articles: int = 0) -> None:
        mirrors = _mirrors()
        listed = [
            x
            for f in fixtures
            if f.site in mirrors and (x := mirrors[f.site].listed(f)) is not None
        ]
        newest = max(x.published for x in listed)
        for index, (site, mirror) in enumerate(mirrors.items()):
            templates = [x for x in listed if x.site == site and x.is_article]
            share = extra_articles // len(mirrors) + (index < extra_articles % len(mirrors))
            listed += generated(templates, share, newest, mirror) if templates else []
        self.items = sorted(listed, key=lambda x: x.published, reverse=True)
        self.mirrors = mirrors

    def url(self, item: Listed) -> str:
        return str(self.mirrors[item.site].article_url(item))

    def routes(self) -> dict[str, Route]:
        return {mirror_path(identify(self.url(i)).url): i.page for i in self.items}

    def demo_notes(self) -> list[str]:
        """What each site's mirror does on purpose besides its pages (`DEMO_NOTES`)."""
        return [note for m in self.mirrors.values() for note in getattr(m, "DEMO_NOTES", ())]

    def handlers(self) -> dict[str, Handler]:
        out: dict[str, Handler] = {}
        for module in self.mirrors.values():
            out.update(module.handlers(self.items))
        return out


def site_tables(server: MirrorServer) -> dict[str, dict[str, str]]:
    """Every site's base-URL settings pointing at the mirror (`[sites.<name>]` values)."""
    return {
        name: {key: server.base_url(origin) for key, origin in site.origins.items()}
        for name, site in SITES.items()
    }


def mirrored(config: Config, server: MirrorServer) -> Config:
    """The config with every site fetching from the mirror."""
    tables = site_tables(server)
    sites = {
        name: dataclasses.replace(settings, **tables[name])  # type: ignore[arg-type]
        for name, settings in config.sites.items()
    }
    return dataclasses.replace(config, sites=sites)
