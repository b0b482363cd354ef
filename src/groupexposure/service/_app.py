"""The FastAPI application of ``groupexposure serve`` (SPEC §10).

Every endpoint but ``/health`` needs ``Authorization: Bearer <token>``; the user the journal records
is the token's. Bad requests get a 4xx naming the problem; a journal that cannot be written, 503;
nothing answers with a traceback. Logs hold request ids, routes, statuses, counts and decisions.
"""

import datetime as dt
import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..ledger.carry import carry_missing
from ..ledger.journal import JournalError
from ..ledger.snapshot import Snapshot, open_snapshot
from ..ledger.store import SnapshotError
from .auth import User, read_tokens, user_of
from .models import CheckRequest, DecisionOut, ReleaseRequest, ReloadRequest, ReserveRequest

__all__ = ["create_app"]

log = logging.getLogger("groupexposure.service")


class _BodyLimit:
    """Refuse request bodies above ``limit`` bytes with 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_big = JSONResponse({"detail": f"request body larger than {self.limit} bytes"}, 413)
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await too_big(scope, receive, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # a streamed body (no Content-Length): read it here, at most `limit` bytes, then replay it
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await too_big(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class _State:
    """The snapshot served; reservations and reloads take the lock (a reload is atomic)."""

    def __init__(self, snapshot: Snapshot, tokens: dict[str, User]) -> None:
        self.snapshot, self.tokens = snapshot, tokens
        self.lock = threading.Lock()


class Health(BaseModel):
    status: str
    snapshot_id: str
    as_of: str | None
    version: str


class Released(BaseModel):
    reservation_id: str
    state: str
    entity_id: str
    amount: float
    closed_by: str | None
    closed_time: str | None


class Reloaded(BaseModel):
    snapshot_id: str
    previous_snapshot_id: str
    carried: int
    booked: int


class Explanation(BaseModel):
    entity: dict[str, Any]
    memberships: list[dict[str, Any]]
    groups: list[dict[str, Any]]


class GroupOut(BaseModel):
    group: dict[str, Any]
    members: list[dict[str, Any]]


def _records(frame: Any) -> list[dict[str, Any]]:
    """JSON-safe records (NaN and infinities as null)."""
    frame = frame.replace([np.inf, -np.inf], np.nan)
    return json.loads(frame.to_json(orient="records", date_format="iso"))  # type: ignore[no-any-return]


def create_app(snapshot: str | Path | Snapshot, *, tokens: str | Path | dict[str, User],
               max_body: int = 64 * 1024) -> FastAPI:
    """The application (see :func:`groupexposure.service.app`)."""
    snap = snapshot if isinstance(snapshot, Snapshot) else open_snapshot(snapshot)
    state = _State(snap, tokens if isinstance(tokens, dict) else read_tokens(tokens))
    app = FastAPI(title="groupexposure", version=__version__,
                  description="Pre-approval checks and reservations against a saved analysis "
                  "(SPEC §6, §10). Every endpoint but /health needs a bearer token.")
    bearer = HTTPBearer(auto_error=False)

    def user(cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
        found = None if cred is None else user_of(f"Bearer {cred.credentials}", state.tokens)
        if found is None:
            raise HTTPException(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        return found

    Caller = Annotated[User, Depends(user)]  # noqa: N806 (a type alias)
    _handlers(app)
    _middleware(app)
    app.add_middleware(_BodyLimit, limit=max_body)

    @app.get("/health", response_model=Health)
    def health() -> Health:
        s = state.snapshot
        return Health(status="ok", snapshot_id=s.snapshot_id, as_of=s.as_of, version=__version__)

    @app.post("/check", response_model=DecisionOut, responses=_ERRORS)
    def check(body: CheckRequest, who: Caller, request: Request) -> DecisionOut:
        d = state.snapshot.check(**body.arguments())
        request.state.decision = d.approved
        return DecisionOut.of(d)

    @app.post("/reserve", response_model=DecisionOut, responses=_ERRORS)
    def reserve(body: ReserveRequest, who: Caller, request: Request) -> DecisionOut:
        args = body.arguments()
        reference = args.pop("reference")
        with state.lock:
            d = state.snapshot.reserve(**args, reference=reference, by=who.name)
        request.state.decision = d.approved
        return DecisionOut.of(d)

    @app.post("/release", response_model=Released, responses=_ERRORS)
    def release(body: ReleaseRequest, who: Caller) -> Released:
        with state.lock:
            row = state.snapshot.release(body.reservation_id, by=who.name)
        return Released(**{k: row[k] for k in Released.model_fields})

    @app.get("/explain/{entity_id}", response_model=Explanation, responses=_ERRORS)
    def explain(entity_id: str, who: Caller) -> Explanation:
        e = state.snapshot.explain(entity_id)
        return Explanation(entity=_records(e["entity"])[0], memberships=_records(e["memberships"]),
                           groups=_records(e["groups"]))

    @app.get("/groups/{group_id}", response_model=GroupOut, responses=_ERRORS)
    def group(group_id: str, who: Caller) -> GroupOut:
        g = state.snapshot.group(group_id)
        return GroupOut(group=_records(g["group"])[0], members=_records(g["members"]))

    @app.get("/reservations", response_model=list[dict[str, Any]], responses=_ERRORS)
    def reservations(who: Caller, user: Annotated[str | None, Query(max_length=200)] = None,
                     date: dt.date | None = None,
                     entity: Annotated[str | None, Query(max_length=200)] = None,
                     ) -> list[dict[str, Any]]:
        j = state.snapshot.reservations
        if user is not None:
            j = j[j["by"] == user]
        if entity is not None:
            j = j[j["entity_id"] == entity]
        if date is not None:
            j = j[j["time"].str.startswith(date.isoformat())]
        return _records(j)

    @app.post("/admin/reload", response_model=Reloaded, responses=_ERRORS)
    def reload(body: ReloadRequest, who: Caller) -> Reloaded:
        if not who.admin:
            raise HTTPException(403, "reloading the snapshot needs an admin token")
        try:
            new = open_snapshot(body.snapshot)
        except ValueError as err:
            raise HTTPException(400, f"cannot reload: {err}") from None
        with state.lock:
            old = state.snapshot
            carried, booked = carry_missing(old, new) if new.path != old.path else (0, 0)
            state.snapshot = new
        log.info("reloaded snapshot %s -> %s, %d carried, %d booked", old.snapshot_id,
                 new.snapshot_id, carried, booked)
        return Reloaded(snapshot_id=new.snapshot_id, previous_snapshot_id=old.snapshot_id,
                        carried=carried, booked=booked)

    return app


class _Problem(BaseModel):
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": _Problem, "description": "the proposal is invalid (the detail says why)"},
    401: {"model": _Problem, "description": "no token, or a wrong one"},
    404: {"model": _Problem, "description": "unknown entity, group or reservation"},
    409: {"model": _Problem, "description": "the reservation is not open"},
    503: {"model": _Problem, "description": "the journal cannot be read or written"},
}


def _status_of(err: ValueError) -> int:
    text = str(err)
    if text.startswith(("unknown entity", "unknown reservation", "unknown group")):
        return 404
    if "not open" in text:
        return 409
    if isinstance(err, JournalError | SnapshotError):
        return 503
    return 400


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""),
                     "type": e.get("type", "")} for e in exc.errors()]
        for p in problems:
            if p["loc"] == ["body"] and p["type"] == "model_attributes_type":
                p["msg"] = "the body must be a JSON object, sent with Content-Type: application/json"
        text = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems)
        return JSONResponse({"detail": text, "problems": problems}, status_code=422)

    @app.exception_handler(ValueError)
    async def refused(request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_status_of(exc))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        rid = getattr(request.state, "request_id", "")
        log.error("request_id=%s failed: %s", rid, type(exc).__name__)
        return JSONResponse({"detail": f"internal error (request {rid})"}, status_code=500)


def _middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:
        rid = uuid.uuid4().hex[:16]
        request.state.request_id = rid
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = rid
        route = request.scope.get("route")
        decision = getattr(request.state, "decision", None)
        log.info("request_id=%s %s %s status=%d ms=%.1f%s", rid, request.method,
                 getattr(route, "path", "-"), response.status_code,
                 (time.perf_counter() - start) * 1e3,
                 "" if decision is None else f" approved={decision}")
        return response
