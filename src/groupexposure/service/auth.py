"""Bearer tokens from a file of ``token user [admin]`` lines, compared in constant time."""

from __future__ import annotations

import hmac
import logging
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MIN_TOKEN_LENGTH", "User", "read_tokens", "user_of"]

log = logging.getLogger("groupexposure.service")

MIN_TOKEN_LENGTH = 16
"""Shorter tokens are refused: a token is a secret, not a password a person types."""


@dataclass(frozen=True)
class User:
    """Who a token belongs to; ``admin`` may reload the snapshot."""

    name: str
    admin: bool = False


def read_tokens(path: str | Path) -> dict[str, User]:
    """The tokens of a file: one ``token user`` pair a line (``admin`` as a third word for an
    administrator); blank lines and lines starting with ``#`` are skipped.

    Warns (logging and the returned mapping unchanged) when other users may read the file.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"tokens file {p}: no such file")
    mode = p.stat().st_mode
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        log.warning("tokens file %s can be read by every user of this machine (mode %s); "
                    "chmod 600 it", p, oct(mode & 0o777))
    tokens: dict[str, User] = {}
    for no, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) not in (2, 3) or (len(words) == 3 and words[2] != "admin"):
            raise ValueError(f"tokens file {p} line {no}: expected 'token user' or "
                             f"'token user admin'; got {len(words)} words")
        token, user = words[0], words[1]
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"tokens file {p} line {no}: the token of {user} has "
                             f"{len(token)} characters; at least {MIN_TOKEN_LENGTH} are needed")
        if token in tokens:
            raise ValueError(f"tokens file {p} line {no}: a token is given twice")
        tokens[token] = User(user, admin=len(words) == 3)
    if not tokens:
        raise ValueError(f"tokens file {p} holds no token")
    return tokens


def user_of(header: str | None, tokens: dict[str, User]) -> User | None:
    """The user of an ``Authorization: Bearer <token>`` header, or None. Every token is compared,
    in constant time, whatever matches first."""
    if not header or not header.startswith("Bearer "):
        return None
    given = header[len("Bearer "):].strip().encode("utf-8")
    found = None
    for token, user in tokens.items():
        if hmac.compare_digest(given, token.encode("utf-8")):
            found = user
    return found
