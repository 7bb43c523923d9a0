"""`newsarchive parse`: one page (a saved file or a live URL) to article JSON on stdout."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.commands.common import UsageError
from crawler.config import Config
from crawler.parsers import MovedTo, PageRejected, UnsupportedURL, identify, parse
from crawler.stats import Exit
from crawler.urls import rebase_url


def add_arguments(commands: Any) -> None:
    p = commands.add_parser("parse", help="parse one page and print the article as JSON")
    p.add_argument("file", nargs="?", type=Path, help="saved page (raw bytes as served)")
    p.add_argument("--url", help="the page's URL (fetched when no FILE is given)")
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="saved page's response header, repeatable ('Content-Type: text/html; charset=gbk')",
    )
    p.add_argument(
        "--headers",
        type=Path,
        metavar="FILE",
        help="JSON with the saved page's 'url' and 'headers' (default: a meta.json beside FILE)",
    )


def cmd_parse(args: argparse.Namespace, config: Config) -> int:
    url, body, headers = _page_to_parse(args, config)
    try:
        article = parse(url, body, headers)
    except MovedTo as moved:
        if args.file is not None:
            print(f"newsarchive: {moved}: parse --url {moved.target}", file=sys.stderr)
            return Exit.PROBLEMS
        # Fetched here: follow it once, as a crawl does (the id stays the URL's).
        body, headers = _fetch(moved.target, config)
        try:
            article = parse(url, body, headers)
        except PageRejected as rejected:
            print(f"newsarchive: {rejected.reason}: {rejected}", file=sys.stderr)
            return Exit.PROBLEMS
    except PageRejected as rejected:
        print(f"newsarchive: {rejected.reason}: {rejected}", file=sys.stderr)
        return Exit.PROBLEMS
    print(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
    return Exit.OK


COMMANDS = {"parse": cmd_parse}


def _page_to_parse(args: argparse.Namespace, config: Config) -> tuple[str, bytes, dict[str, str]]:
    """URL, bytes and headers from a saved file (with its meta.json if any) or a live fetch."""
    if args.file is None:
        if not args.url:
            raise UsageError("parse needs a FILE, a --url, or both")
        return (args.url, *_fetch(args.url, config))
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    meta = _saved_meta(args.headers or args.file.parent / "meta.json", named=bool(args.headers))
    url = args.url or meta.get("url")
    if not url:
        raise UsageError("parse FILE needs --url URL (the page's address decides the site)")
    headers = dict(meta.get("headers", {}))
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep:
            raise UsageError(f"--header must look like 'Name: value', got {header!r}")
        headers[name.strip()] = value.strip()
    if not any(name.lower() == "date" for name in headers):
        # A saved page's time of saving stands in for the server's Date header, which
        # year-less dates are resolved against.
        saved = datetime.fromtimestamp(args.file.stat().st_mtime, UTC)
        headers["Date"] = format_datetime(saved, usegmt=True)
    return url, args.file.read_bytes(), headers


def _saved_meta(path: Path, named: bool) -> dict[str, Any]:
    """The saved page's URL and headers; a meta.json found beside the file is read too, and
    said so on stderr (it changes what the parser sees)."""
    if not path.is_file():
        if named:
            raise UsageError(f"--headers: no such file: {path}")
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not a JSON object with 'url' and 'headers': {error}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("headers", {}), dict):
        raise UsageError(f"{path}: not a JSON object with 'url' and 'headers'")
    if not named:
        print(
            f"newsarchive: reading the URL and headers in {path} (--headers FILE to name another)",
            file=sys.stderr,
        )
    return meta


class _SameSiteRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the hosts the site is fetched from."""

    def __init__(self, hosts: set[str]) -> None:
        self.hosts = hosts

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        host = urlsplit(newurl).hostname or ""
        if host not in self.hosts:
            raise UsageError(f"{req.full_url} redirects off-site to {newurl}: not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(url: str, config: Config) -> tuple[bytes, dict[str, str]]:
    try:
        ref = identify(url)
    except UnsupportedURL as error:
        raise UsageError(str(error)) from None
    settings = config.site(ref.site)
    target = rebase_url(settings.base_url, ref.url)
    hosts = {urlsplit(base).hostname or "" for base in settings.base_urls().values()}
    opener = urllib.request.build_opener(_SameSiteRedirects(hosts))
    request = urllib.request.Request(target, headers={"User-Agent": config.crawl.user_agent})
    try:
        with opener.open(request, timeout=config.crawl.download_timeout) as response:
            return response.read(), dict(response.headers.items())
    except OSError as error:
        raise UsageError(f"cannot fetch {target}: {error}") from None
