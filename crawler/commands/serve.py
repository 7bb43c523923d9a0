"""`newsarchive serve`: the read-only web reader, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from typing import Any

from crawler.commands.common import UsageError
from crawler.config import Config
from crawler.stats import Exit
from pipelines.store import check_store, shared_store

LOCAL = "127.0.0.1"


def add_arguments(commands: Any) -> None:
    serve = commands.add_parser("serve", help="read the archive in a browser (read-only)")
    serve.add_argument("--host", default=LOCAL, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    import uvicorn

    from crawler.web.app import create_app

    check_store(shared_store(config.archive))
    _check_free(args.host, args.port)
    if args.host != LOCAL:
        print(
            f"serving on {args.host}: anyone who can reach it can read the archive", file=sys.stderr
        )
    print(
        f"newsarchive reader on http://{args.host}:{args.port}/ (Ctrl-C stops it)", file=sys.stderr
    )
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning")
    return Exit.OK


def _check_free(host: str, port: int) -> None:
    """A port in use or an address not of this machine: one line, exit 2."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        why = "already in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise UsageError(f"cannot serve on {host}:{port}: {why}") from None
    except OverflowError:
        raise UsageError(f"--port {port}: not a port number") from None


COMMANDS = {"serve": cmd_serve}
