"""The HTTP service of SPEC §10 (``groupexposure serve``), in the ``service`` extra.

``gx.service.app(snapshot, tokens=...)`` builds the ASGI application (FastAPI); nothing here imports
the web framework until it is called, so ``import groupexposure`` stays free of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..ledger.snapshot import Snapshot

__all__ = ["app"]


def app(snapshot: str | Path | Snapshot, *, tokens: str | Path | dict[str, Any],
        max_body: int = 64 * 1024) -> Any:
    """The ASGI application answering for ``snapshot`` (a path or an open Snapshot).

    ``tokens``: the tokens file (``token user [admin]`` lines) or a mapping already read by
    :func:`groupexposure.service.auth.read_tokens`. ``max_body``: the largest request body in bytes.
    """
    try:
        from ._app import create_app
    except ImportError as err:  # the extra is not installed: say how to get it
        raise ImportError(f"the service needs FastAPI and uvicorn: pip install "
                          f"'groupexposure[service]' ({err})") from None
    return create_app(snapshot, tokens=tokens, max_body=max_body)
