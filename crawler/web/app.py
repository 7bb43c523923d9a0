"""The read-only web reader (`newsarchive serve`): Starlette routes over the archive reader.

Every page has a JSON twin under `/api/`. Nothing here writes: GET routes only. Safe by
default: Jinja2 escapes every archived string; the page as served is returned as text/plain
with `nosniff` and a sandboxing Content-Security-Policy, never as HTML of this origin; HTML
pages forbid scripts altogether (the reader needs none: the charts are inline SVG). Unknown ids
and bad parameters are 404/400 pages, not tracebacks. Works on a local folder and on S3
alike, through the same reader as the command line.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from crawler.config import Config
from crawler.health.reports import recent_reports
from crawler.items import BEIJING, parse_day
from crawler.parsers.text import decode_page
from crawler.sites import SITE_NAMES
from pipelines.read.query import MARK_END, MARK_START, QueryError
from pipelines.read.reader import ArchiveReader, UnreadableObject, raw_body
from pipelines.read.search import SearchIndex
from pipelines.records.versions import diff_versions
from pipelines.store import shared_store
from pipelines.warc import CaptureMissing

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def beijing_time(value: Any) -> str:
    """A publication time as the sites show it: Beijing time, to the second."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") + " Beijing"


def utc_time(value: Any) -> str:
    """When the archive did something (fetched, saw a change, ran): UTC, to the second."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") + " UTC"


TEMPLATES.env.filters.update(beijing=beijing_time, utc=utc_time)
HOME_WEEKS = 4
CHART_HEIGHT = 80  # pixels of the tallest bar of the runs chart
LATEST = 30
PAGE_SECURITY = {
    # No script runs on any page; styles are inline; nothing is framed or sniffed.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
RAW_SECURITY = {**PAGE_SECURITY, "Content-Security-Policy": "sandbox; default-src 'none'"}


class Reader:
    """What the routes need, from one config: the archive and the search index."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.archive = ArchiveReader(shared_store(config.archive))
        self.index_path = config.search.index_path(config.archive.spool_dir)

    def articles(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        removals = self.archive.removals(params.get("site"))
        rows = []
        for article in self.archive.articles(
            site=params.get("site"),
            since=params.get("since"),
            until=params.get("until"),
            ticker=params.get("ticker"),
        ):
            marker = removals.get((article.site, article.id), {})
            rows.append({**article.to_dict(), "removed": marker.get("event") == "removed"})
        rows.sort(key=lambda row: str(row["published"]), reverse=True)
        return rows[: params.get("limit", 200)]

    def article(self, article_id: str, site: str | None) -> dict[str, Any]:
        records = self.archive.find(article_id, site)
        if not records:
            raise HTTPException(404, f"no article {article_id} in the archive")
        newest = records[-1]
        marker = self.archive.removals(newest["site"]).get((newest["site"], newest["id"]))
        diff = diff_versions(records[-2], newest).to_dict() if len(records) > 1 else None
        return {"record": newest, "versions": records, "removal": marker, "diff": diff}

    def search(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.index_path.is_file():
            raise HTTPException(400, "no search index yet: run `newsarchive index`")
        with SearchIndex(self.index_path) as index:
            try:
                hits = index.search(
                    params["q"],
                    params.get("site"),
                    params.get("since"),
                    params.get("until"),
                    params.get("ticker"),
                    params.get("lang"),
                    params.get("limit", 20),
                )
            except QueryError as error:
                raise HTTPException(400, str(error)) from None
        return [hit.to_dict() for hit in hits]

    def runs(self, limit: int = 30) -> list[dict[str, Any]]:
        return list(recent_reports(self.archive.store, limit))


def create_app(config: Config) -> Starlette:
    reader = Reader(config)

    def home(request: Request) -> Response:
        params = _params(request)
        if any(params.get(k) for k in ("site", "since", "until", "ticker")):
            rows = reader.articles(params)
            return _page(request, "list.html", {"rows": rows, "params": params})
        latest = reader.articles({"limit": LATEST})
        # The weeks up to the newest article: today on a live archive, an old archive's own.
        today = datetime.now(BEIJING).date()
        last = date.fromisoformat(str(latest[0]["published"])[:10]) if latest else today
        since = last - timedelta(weeks=HOME_WEEKS)
        recent = reader.articles({"since": since, "until": last, "limit": 100_000})
        counts = Counter((row["site"], str(row["published"])[:10]) for row in recent)
        # The days that have articles, not a month of zeros.
        every_day = [since + timedelta(days=n) for n in range(HOME_WEEKS * 7 + 1)]
        days = [d for d in every_day if any(counts.get((s, d.isoformat())) for s in SITE_NAMES)]
        table = {site: [counts.get((site, d.isoformat()), 0) for d in days] for site in SITE_NAMES}
        return _page(request, "home.html", {"days": days, "table": table, "latest": latest})

    def search(request: Request) -> Response:
        params = _params(request)
        hits = reader.search(params) if params.get("q") else []
        for hit in hits:
            hit["snippet_parts"] = _marked(str(hit["snippet"]))
        return _page(request, "search.html", {"hits": hits, "params": params})

    def article(request: Request) -> Response:
        data = reader.article(request.path_params["id"], _params(request).get("site"))
        return _page(request, "article.html", data)

    def record_json(request: Request) -> Response:
        data = reader.article(request.path_params["id"], _params(request).get("site"))
        version = _params(request).get("version")
        records = data["versions"]
        chosen = records[version - 1] if version and version <= len(records) else data["record"]
        return JSONResponse(chosen, headers=PAGE_SECURITY)

    def raw(request: Request) -> Response:
        data = reader.article(request.path_params["id"], _params(request).get("site"))
        try:
            body = raw_body(reader.archive.store, data["record"])
        except CaptureMissing as error:
            raise HTTPException(404, str(error)) from None
        _, text = decode_page(body, data["record"].get("http_headers") or {})
        return Response(text, media_type="text/plain; charset=utf-8", headers=RAW_SECURITY)

    def runs(request: Request) -> Response:
        reports = reader.runs()
        return _page(request, "runs.html", {"reports": reports, "chart": _chart(reports)})

    def api_articles(request: Request) -> Response:
        return _json(reader.articles(_params(request)))

    def api_article(request: Request) -> Response:
        return _json(reader.article(request.path_params["id"], _params(request).get("site")))

    def api_search(request: Request) -> Response:
        params = _params(request)
        if not params.get("q"):
            raise HTTPException(400, "q: the words to search for")
        return _json(reader.search(params))

    def api_runs(request: Request) -> Response:
        return _json(reader.runs())

    async def error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "the reader failed"
        if isinstance(exc, UnreadableObject):  # a damaged object: say which, and what to run
            detail = str(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": detail}, status_code=status, headers=PAGE_SECURITY)
        return TEMPLATES.TemplateResponse(
            request,
            "error.html",
            {"status": status, "detail": detail},
            status_code=status,
            headers=PAGE_SECURITY,
        )

    def favicon(request: Request) -> Response:
        return Response(status_code=204)  # browsers ask; the reader has no icon

    routes = [
        Route("/", home),
        Route("/favicon.ico", favicon),
        Route("/search", search),
        Route("/articles/{id}", article),
        Route("/articles/{id}/record.json", record_json),
        Route("/articles/{id}/raw", raw),
        Route("/runs", runs),
        Route("/api/articles", api_articles),
        Route("/api/articles/{id}", api_article),
        Route("/api/search", api_search),
        Route("/api/runs", api_runs),
    ]
    handlers = {HTTPException: error, UnreadableObject: error, Exception: error}
    return Starlette(routes=routes, exception_handlers=handlers)


def _params(request: Request) -> dict[str, Any]:
    """The query parameters every page takes, checked: a bad one is a 400, not a crash."""
    query = request.query_params
    params: dict[str, Any] = {}
    site = query.get("site") or None
    if site is not None and site not in SITE_NAMES:
        raise HTTPException(400, f"site: one of {', '.join(SITE_NAMES)}")
    params["site"] = site
    for name in ("since", "until"):
        if query.get(name):
            try:
                params[name] = parse_day(query[name])
            except ValueError as error:
                raise HTTPException(400, f"{name}: {error}") from None
    if query.get("day"):
        try:
            params["since"] = params["until"] = parse_day(query["day"])
        except ValueError as error:
            raise HTTPException(400, f"day: {error}") from None
    for name in ("limit", "version"):
        if query.get(name):
            if not query[name].isdigit() or int(query[name]) < 1:
                raise HTTPException(400, f"{name}: a whole number of at least 1")
            params[name] = min(int(query[name]), 1000)
    params["ticker"] = query.get("ticker") or None
    params["lang"] = query.get("lang") or None
    params["q"] = query.get("q", "").strip()
    return params


def _page(request: Request, template: str, context: dict[str, Any]) -> Response:
    return TEMPLATES.TemplateResponse(request, template, context, headers=PAGE_SECURITY)


def _json(data: Any) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, default=_plain),
        media_type="application/json",
        headers=PAGE_SECURITY,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _marked(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, is_match) pieces, for the template to wrap matches in <mark>
    (escaped piece by piece: no archived string is ever trusted as HTML)."""
    parts: list[tuple[str, bool]] = []
    rest = snippet
    while MARK_START in rest:
        before, _, after = rest.partition(MARK_START)
        match, _, rest = after.partition(MARK_END)
        parts += [(before, False), (match, True)]
    parts.append((rest, False))
    return [part for part in parts if part[0]]


def _chart(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars of archived articles per run, oldest first, as heights for an inline SVG with its
    axis figures (0 and the top) and each run's start (UTC)."""
    runs = list(reversed(reports))
    values = [
        sum(
            site.get("archived", 0) + site.get("new_versions", 0)
            for site in r.get("sites", {}).values()
        )
        for r in runs
    ]
    top = max(values, default=0) or 1
    bars = [
        {"value": v, "height": round(CHART_HEIGHT * v / top), "label": utc_time(r.get("started"))}
        for v, r in zip(values, runs, strict=True)
    ]
    return {"bars": bars, "top": max(values, default=0)}
