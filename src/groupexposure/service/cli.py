"""``groupexposure serve SNAP --tokens FILE [--host 127.0.0.1] [--port 8000]``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_command", "run"]


def add_command(sub: Any) -> None:
    """The ``serve`` subcommand."""
    s = sub.add_parser("serve", help="answer check/reserve/release over HTTP (needs "
                       "groupexposure[service])")
    s.add_argument("snapshot", type=Path)
    s.add_argument("--tokens", type=Path, required=True,
                   help="file of 'token user [admin]' lines (keep it chmod 600)")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--max-body", type=int, default=64 * 1024, help="largest request body, bytes")


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    log = logging.getLogger("groupexposure.service")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    from . import app

    application = app(args.snapshot, tokens=args.tokens, max_body=args.max_body)
    import uvicorn

    # uvicorn's access log would print every path (entity ids): our own log line replaces it
    uvicorn.run(application, host=args.host, port=args.port, access_log=False,
                log_level="warning")
    return 0
