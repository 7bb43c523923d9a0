"""The only list of sites: everything that names a site elsewhere takes it from here.

A site is one `Site` value: its name (spider name, `[sites.<name>]` table, key segment), the
title used in messages, its settings (a frozen dataclass whose fields are the keys, types and
defaults of `[sites.<name>]`; the base-URL defaults are the real origins), where its parser,
spider, sample pages and offline-mirror module live, and the scheduler jobs it gets by default.

Sites outside this package register the same way, through the `newsarchive.sites` entry-point
group of an installed distribution, each entry naming a `Site` value:

    [project.entry-points."newsarchive.sites"]
    example = "example_news.site:SITE"

The module holding that value must stay light (no parser or Scrapy imports): the registry is
read by the archive readers and the scheduler too. Parser, spider and mirror are named as
import paths and only loaded by the parts that use them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module, metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any

ENTRY_POINT_GROUP = "newsarchive.sites"
BASE_URL_SUFFIX = "base_url"  # a site setting named *base_url is an origin the spider fetches
# The sample pages of the built-in sites ship inside the package (demo, mirror, tests).
FIXTURES = Path(__file__).resolve().parent / "fixtures"


class SiteRegistryError(Exception):
    """A registered site is malformed or clashes with another one."""


def choices(*values: str) -> dict[str, Any]:
    """Field metadata: the values a setting (or each item of a list setting) may take."""
    return {"choices": values}


def at_least(minimum: float) -> dict[str, Any]:
    """Field metadata: the smallest value a number setting may take."""
    return {"minimum": minimum}


@dataclass(frozen=True)
class SiteSettings:
    """The `[sites.<name>]` keys every site has; a site's own class adds its listing knobs.

    Fields ending in `base_url` are where the spider fetches from: their defaults are the
    real site's origins, and the mirror or a proxy replaces them.
    """

    base_url: str
    max_pages: int = field(default=5, metadata=at_least(1))
    # Requests per second to the site from all `newsarchive worker`s together (held through
    # their shared Redis, so adding workers never adds load); 0: no shared limit.
    shared_rate: float = field(default=2.0, metadata=at_least(0))

    def base_urls(self) -> dict[str, str]:
        """Every `*base_url` setting and its value."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name.endswith(BASE_URL_SUFFIX)
        }


@dataclass(frozen=True)
class Site:
    """One site, as every part of newsarchive sees it."""

    name: str
    title: str
    settings: type[SiteSettings]
    parser: str  # "module:Class" of the site parser (pure: no Scrapy, no storage)
    spider_module: str  # module defining the Scrapy spider whose name is `name`
    fixtures: Path  # sample pages, one folder per case: page.html, meta.json, expected.json
    mirror: str | None = None  # module with the site's listing shapes for the offline mirror
    default_jobs: tuple[tuple[str, str], ...] = ()  # (job id, cron) when no jobs are configured
    # Every URL form the site's articles have had, as URL prefixes a web archive's CDX API is
    # asked for (`crawl --from wayback`): the parser identifies what each capture is.
    archive_prefixes: tuple[str, ...] = ()

    @property
    def origins(self) -> dict[str, str]:
        """Base-URL setting -> the real origin it stands for (the setting's default)."""
        return self.default_settings().base_urls()

    def default_settings(self) -> SiteSettings:
        """The settings with nothing configured: a site's class gives every field a default
        (base_url included, which the base class cannot)."""
        return self.settings()  # type: ignore[call-arg]

    def load_parser(self) -> Any:
        module, _, name = self.parser.partition(":")
        return getattr(import_module(module), name)()

    def load_mirror(self) -> Any:
        return import_module(self.mirror) if self.mirror else None


# --- the built-in sites --------------------------------------------------------------------

FUTU_LANGUAGES = ("zh-CN", "zh-HK", "en")
FUTU_SOURCES = ("sitemaps", "headlines", "flash")


@dataclass(frozen=True)
class FutuSettings(SiteSettings):
    base_url: str = "https://news.futunn.com"
    languages: tuple[str, ...] = field(default=FUTU_LANGUAGES, metadata=choices(*FUTU_LANGUAGES))
    sources: tuple[str, ...] = field(default=FUTU_SOURCES, metadata=choices(*FUTU_SOURCES))
    headline_size: int = 48
    flash_page_size: int = 30


@dataclass(frozen=True)
class TencentSettings(SiteSettings):
    base_url: str = "https://news.qq.com"
    api_base_url: str = "https://i.news.qq.com"
    hot_base_url: str = "https://r.inews.qq.com"
    channels: tuple[str, ...] = ("news_news_finance", "news_news_tech")
    hot_ranking: bool = True
    item_count: int = 20
    # news.qq.com/sitemap/index.xml -> sitemap_N.xml: every listed article, without dates, so
    # each run asks the archive about every id: off for nightly runs, on for a backfill.
    sitemaps: bool = False


FUTU = Site(
    name="futu",
    title="Futu",
    settings=FutuSettings,
    parser="crawler.parsers.futu:FutuParser",
    spider_module="crawler.spiders.futu",
    fixtures=FIXTURES / "futu",
    mirror="crawler.mirror.futu",
    default_jobs=(("futu-nightly", "0 2 * * *"),),
    archive_prefixes=(
        "news.futunn.com/post/",
        "news.futunn.com/hk/post/",
        "news.futunn.com/en/post/",
        "news.futunn.com/flash/",
        "news.futunn.com/hk/flash/",
        "news.futunn.com/en/flash/",
        "news.futunn.com/market/",
        "news.futunn.com/section/",
        "news.moomoo.com/post/",
        "www.moomoo.com/news/post/",
    ),
)
TENCENT = Site(
    name="tencent",
    title="Tencent",
    settings=TencentSettings,
    parser="crawler.parsers.tencent:TencentParser",
    spider_module="crawler.spiders.tencent",
    fixtures=FIXTURES / "tencent",
    mirror="crawler.mirror.tencent",
    default_jobs=(("tencent-6h", "0 */6 * * *"),),
    archive_prefixes=(
        "news.qq.com/rain/a/",
        "new.qq.com/rain/a/",
        "new.qq.com/omn/",
        "new.qq.com/cmsn/",
        "view.inews.qq.com/a/",
        "xw.qq.com/cmsid/",
        "news.qq.com/a/",
        "finance.qq.com/a/",
        "tech.qq.com/a/",
        "ent.qq.com/a/",
        "sports.qq.com/a/",
    ),
)
BUILT_IN = (FUTU, TENCENT)


def _from_entry_points() -> list[Site]:
    found = []
    for entry in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            site = entry.load()
        except Exception as error:  # a broken plug-in must say which one it is
            raise SiteRegistryError(
                f"site entry point {entry.name!r} ({entry.value}) cannot be loaded: {error}"
            ) from error
        if not isinstance(site, Site):
            raise SiteRegistryError(f"site entry point {entry.name!r} is not a Site value")
        found.append(site)
    return found


def _registry(sites: list[Site]) -> Mapping[str, Site]:
    registry: dict[str, Site] = {}
    for site in sites:
        if site.name in registry:
            raise SiteRegistryError(f"two sites are named {site.name!r}")
        try:
            site.default_settings()
        except TypeError:
            raise SiteRegistryError(
                f"site {site.name!r}: every setting needs a default (base_url: the real origin)"
            ) from None
        registry[site.name] = site
    return MappingProxyType(registry)


SITES: Mapping[str, Site] = _registry([*BUILT_IN, *_from_entry_points()])
SITE_NAMES: tuple[str, ...] = tuple(SITES)


def site_titles() -> str:
    """ "Futu or Tencent": the registered sites, for messages."""
    titles = [site.title for site in SITES.values()]
    return " or ".join(titles) if len(titles) < 3 else ", ".join(titles[:-1]) + " or " + titles[-1]
