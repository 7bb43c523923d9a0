"""`[history]`: where the public web archives answer, and how politely they are asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

SOURCES = ("wayback", "commoncrawl")


@dataclass(frozen=True)
class HistoryOptions:
    """The CDX and replay endpoints of each web archive (the public services by default; a
    pywb of one's own answers the same API) and requests per second to each. Both services
    throttle and answer 429/503 when pushed: the defaults are the spacing their own client
    library keeps or slower (one request every 6.7 s to web.archive.org, where it keeps 6 s;
    1 s to Common Crawl's index)."""

    wayback_cdx: str = "https://web.archive.org/cdx/search/cdx"
    wayback_replay: str = "https://web.archive.org/web"
    commoncrawl_index: str = "https://index.commoncrawl.org/collinfo.json"
    commoncrawl_data: str = "https://data.commoncrawl.org"
    wayback_rate: float = field(default=0.15, metadata={"minimum": 0.001})
    commoncrawl_rate: float = field(default=1.0, metadata={"minimum": 0.001})
    # Index blocks per CDX page (`pageSize`); 0: the server's own (the Wayback Machine's
    # and Common Crawl's are a few thousand captures per page).
    cdx_page_size: int = field(default=0, metadata={"minimum": 0})

    def endpoints(self, source: str) -> tuple[str, ...]:
        """The URLs a run from `source` requests (their hosts are the only ones it asks)."""
        if source == "wayback":
            return (self.wayback_cdx, self.wayback_replay)
        return (self.commoncrawl_index, self.commoncrawl_data)

    def rate(self, source: str) -> float:
        return self.wayback_rate if source == "wayback" else self.commoncrawl_rate

    def download_slots(self, source: str) -> dict[str, dict[str, float]]:
        """Scrapy's DOWNLOAD_SLOTS: one request at a time per endpoint host, spaced by rate."""
        delay = 1 / self.rate(source)
        hosts = {urlsplit(url).netloc for url in self.endpoints(source)}
        return {host: {"concurrency": 1, "delay": delay} for host in hosts if host}
