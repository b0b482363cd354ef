"""The HTTP service, a real uvicorn server on a free loopback port, called with httpx (SPEC §10)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

import groupexposure as gx  # noqa: E402
from groupexposure.service.auth import read_tokens  # noqa: E402
from groupexposure.service.models import DecisionOut  # noqa: E402

SRC = str(Path(gx.__file__).resolve().parents[1])
ALICE, BOB, ADMIN = "alice-token-0123456789", "bob-token-0123456789ab", "admin-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, snap: Path, tokens: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = snap.parent / f"server-{self.port}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "groupexposure", "serve", str(snap), "--tokens", str(tokens),
             "--port", str(self.port), "--max-body", "4096"],
            stdout=subprocess.DEVNULL, stderr=self.log.open("w"), env={"PYTHONPATH": SRC})
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
            assert self.proc.poll() is None, self.log.read_text()
        raise AssertionError("the server did not start: " + self.log.read_text())

    def call(self, method: str, path: str, token: str | None = ALICE,
             headers: dict[str, str] | None = None, **kw: Any) -> Any:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, self.url + path, headers={**auth, **(headers or {})},
                             timeout=60, **kw)

    def stop(self) -> str:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return self.log.read_text()


def _tokens(directory: Path, mode: int = 0o600) -> Path:
    p = directory / "tokens.txt"
    p.write_text(f"# token user [admin]\n{ALICE} alice\n{BOB} bob\n{ADMIN} ops admin\n")
    p.chmod(mode)
    return p


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    d = tmp_path_factory.mktemp("svc")
    snap = gx.analyze(gx.datasets.ningxia()).save(d / "snap")
    server = Server(snap, _tokens(d, 0o644))
    yield server, snap
    server.stop()


def test_health_needs_no_token(served: tuple[Server, Path]) -> None:
    server, snap = served
    r = server.call("GET", "/health", token=None)
    assert r.status_code == 200
    assert r.json()["snapshot_id"] == gx.open_snapshot(snap).snapshot_id


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/check"), ("POST", "/reserve"), ("POST", "/release"), ("GET", "/explain/RC-SPIN"),
    ("GET", "/groups/RC-GRP"), ("GET", "/reservations"), ("POST", "/admin/reload")])
def test_every_endpoint_but_health_needs_a_token(served: tuple[Server, Path], method: str,
                                                 path: str) -> None:
    server, _ = served
    for token in (None, "wrong-token-0123456789", ALICE[:-1]):
        r = server.call(method, path, token=token, json={"entity_id": "RC-SPIN", "amount": 1})
        assert r.status_code == 401 and r.json() == {"detail": "unauthorized"}
    r = httpx.request(method, server.url + path, headers={"Authorization": f"Basic {ALICE}"})
    assert r.status_code == 401


def test_check_is_the_library_decision(served: tuple[Server, Path]) -> None:
    server, snap = served
    r = server.call("POST", "/check", json={"entity_id": "RC-SPIN", "amount": 1e8})
    assert r.status_code == 200 and r.headers["X-Request-ID"]
    d = DecisionOut.model_validate(r.json())
    assert d == DecisionOut.of(gx.open_snapshot(snap).check("RC-SPIN", 1e8))
    assert d.max_amount == 414e6 and d.approved
    r = server.call("POST", "/check", json={"entity_id": "MOF", "amount": 1e8})
    assert r.json()["max_amount"] is None  # sovereign, exempt: no limit applies (JSON has no inf)


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"amount": 1}, 422, "body.entity_id: Field required"),
    ({"entity_id": "RC-SPIN", "amount": -5}, 422, "body.amount: Input should be greater than"),
    ({"entity_id": "RC-SPIN", "amount": "lots"}, 422, "body.amount: Input should be a valid number"),
    ({"entity_id": "RC-SPIN", "amount": 1, "product": "mortgage"}, 422, "body.product: Input "
     "should be 'loan'"),
    ({"entity_id": "RC-SPIN", "amount": 1, "by": "mallory"}, 422, "body.by: Extra inputs are not "
     "permitted"),
    ({"entity_id": "RC-SPIN", "amount": 1, "currency": "XYZ"}, 400, "no FX rate for XYZ"),
    ({"entity_id": "RC-SPIx", "amount": 1}, 404, "unknown entity 'RC-SPIx': not in entities.csv; "
     "did you mean RC-SPIN"),
    ({"entity_id": "RC-SPIN", "amount": 1, "guarantor_id": "RC-SPIN"}, 400, "the guarantor must "
     "differ from the obligor"),
])
def test_bad_bodies_get_a_4xx_naming_the_problem(served: tuple[Server, Path], body: dict[str, Any],
                                                 status: int, message: str) -> None:
    server, _ = served
    for path in ("/check", "/reserve"):
        r = server.call("POST", path, json=body)
        assert r.status_code == status and message in r.json()["detail"], r.text


def test_not_json_and_too_large(served: tuple[Server, Path]) -> None:
    server, _ = served
    r = server.call("POST", "/check", content=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = server.call("POST", "/check", content=b"entity_id=A")
    assert r.status_code == 422 and "must be a JSON object" in r.json()["detail"]
    big = {"entity_id": "RC-SPIN", "amount": 1, "pad": "x" * 5000}
    r = server.call("POST", "/check", json=big)
    assert r.status_code == 413 and r.json() == {"detail": "request body larger than 4096 bytes"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b'{"entity_id": "RC-SPIN", "amount": 1, "pad": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    r = server.call("POST", "/check", content=chunks(),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_reserve_release_and_the_journal(served: tuple[Server, Path]) -> None:
    server, snap = served
    r = server.call("POST", "/reserve", token=BOB,
                    json={"entity_id": "TM", "amount": 1e6, "reference": "LN-HTTP-1"})
    assert r.status_code == 200, r.text
    rid = r.json()["reservation_id"]
    assert rid and r.json()["approved"]
    rows = server.call("GET", "/reservations", params={"user": "bob"}).json()
    assert [(x["reservation_id"], x["by"], x["state"]) for x in rows] == [(rid, "bob", "open")]
    assert server.call("GET", "/reservations", params={"entity": "TM"}).json()[0]["by"] == "bob"
    today = rows[0]["time"][:10]
    assert len(server.call("GET", "/reservations", params={"date": today, "user": "bob"}).json()) == 1
    assert server.call("GET", "/reservations", params={"date": "2001-01-01"}).json() == []
    r = server.call("GET", "/reservations", params={"date": "yesterday"})
    assert r.status_code == 422 and "query.date" in r.json()["detail"]
    r = server.call("POST", "/release", token=ALICE, json={"reservation_id": rid})
    assert r.status_code == 200 and r.json()["state"] == "released"
    assert r.json()["closed_by"] == "alice"
    r = server.call("POST", "/release", json={"reservation_id": rid})
    assert r.status_code == 409 and "is released, not open" in r.json()["detail"]
    r = server.call("POST", "/release", json={"reservation_id": "abc123"})
    assert r.status_code == 404 and "unknown reservation 'abc123'" in r.json()["detail"]
    r = server.call("POST", "/release", json={"reservation_id": "../etc"})
    assert r.status_code == 422
    assert gx.open_snapshot(snap).reservations.set_index("reservation_id").loc[rid, "by"] == "bob"


def test_explain_and_groups(served: tuple[Server, Path]) -> None:
    server, snap = served
    s = gx.open_snapshot(snap)
    r = server.call("GET", "/explain/RC-SPIN")
    assert r.status_code == 200
    body = r.json()
    assert body["entity"]["entity_id"] == "RC-SPIN"
    assert {m["group_id"] for m in body["memberships"]} == set(
        s.members.loc[s.members["entity_id"] == "RC-SPIN", "group_id"])
    r = server.call("GET", "/explain/NOPE")
    assert r.status_code == 404 and "unknown entity 'NOPE'" in r.json()["detail"]
    r = server.call("GET", "/groups/RC-GRP")
    assert r.status_code == 200 and r.json()["group"]["group_id"] == "RC-GRP"
    assert len(r.json()["members"]) == int(s.groups.set_index("group_id").loc["RC-GRP", "n_members"])
    r = server.call("GET", "/groups/NOPE")
    assert r.status_code == 404 and r.json()["detail"].startswith("unknown group 'NOPE'")


def test_openapi_description_is_valid(served: tuple[Server, Path]) -> None:
    validate = pytest.importorskip("openapi_spec_validator").validate
    server, _ = served
    spec = httpx.get(server.url + "/openapi.json", timeout=30).json()
    validate(spec)
    assert {"/check", "/reserve", "/release", "/explain/{entity_id}", "/groups/{group_id}",
            "/reservations", "/health", "/admin/reload"} <= set(spec["paths"])
    decision = spec["components"]["schemas"]["DecisionOut"]
    assert {"approved", "max_amount", "binding_rule", "reservation_id", "rules"} <= set(
        decision["properties"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_logs_hold_no_token_and_warn_of_a_readable_tokens_file(served: tuple[Server, Path]) -> None:
    server, _ = served
    server.call("POST", "/check", json={"entity_id": "RC-SPIN", "amount": 1e6})
    log = server.log.read_text()
    assert "can be read by every user of this machine" in log
    assert "POST /check status=200" in log and "approved=True" in log
    assert ALICE not in log and BOB not in log and "RC-SPIN" not in log


def test_tokens_file_errors(tmp_path: Path) -> None:
    p = tmp_path / "t"
    for text, message in (("short alice\n", "the token of alice has 5 characters; at least 16"),
                          (f"{ALICE}\n", "expected 'token user' or 'token user admin'; got 1"),
                          (f"{ALICE} a\n{ALICE} b\n", "line 2: a token is given twice"),
                          ("# nothing\n", "holds no token")):
        p.write_text(text)
        with pytest.raises(ValueError, match=message):
            read_tokens(p)
    with pytest.raises(ValueError, match="no such file"):
        read_tokens(tmp_path / "missing")


def test_many_clients_reserving_at_once_never_overbook(served: tuple[Server, Path]) -> None:
    # RC-SPIN's group has 414m of headroom (SPEC §6 example): four loans of 100m fit, never five
    server, _ = served
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda i: server.call(
            "POST", "/reserve", json={"entity_id": "RC-SPIN", "amount": 1e8,
                                      "reference": f"LN-{i}"}), range(16)))
    assert [a.status_code for a in answers] == [200] * 16
    approved = [a.json()["reservation_id"] for a in answers if a.json()["approved"]]
    assert len(approved) == 4
    assert not server.call("POST", "/check", json={"entity_id": "RC-SPIN", "amount": 14.1e6}
                           ).json()["approved"]
    for rid in approved[1:]:
        assert server.call("POST", "/release", json={"reservation_id": rid}).status_code == 200


def test_reload_switches_and_carries_the_open_reservations(served: tuple[Server, Path]) -> None:
    server, snap = served  # one reservation of 100m on RC-SPIN is still open (test above)
    new = gx.analyze(gx.datasets.ningxia()).save(snap.parent / "new", carry=snap)
    late = server.call("POST", "/reserve", json={"entity_id": "RC-SPIN", "amount": 1e7})
    assert late.json()["approved"]  # made after `new` was saved: carried at the reload
    r = server.call("POST", "/admin/reload", json={"snapshot": str(new)})
    assert r.status_code == 403 and "needs an admin token" in r.json()["detail"]
    r = server.call("POST", "/admin/reload", token=ADMIN, json={"snapshot": str(new)})
    assert r.status_code == 200 and r.json()["carried"] == 1, r.text
    assert server.call("GET", "/health", token=None).json()["snapshot_id"] == r.json()[
        "snapshot_id"]
    # 414m - 100m - 10m = 304m left
    ok = server.call("POST", "/check", json={"entity_id": "RC-SPIN", "amount": 304e6}).json()
    no = server.call("POST", "/check", json={"entity_id": "RC-SPIN", "amount": 305e6}).json()
    assert ok["approved"] and not no["approved"]
    r = server.call("POST", "/admin/reload", token=ADMIN,
                    json={"snapshot": str(snap.parent / "nowhere")})
    assert r.status_code == 400 and r.json()["detail"].startswith("cannot reload: ")
    assert "is not a snapshot" in r.json()["detail"]


def test_import_groupexposure_loads_no_web_framework() -> None:
    code = ("import sys, groupexposure as gx\n"
            "assert callable(gx.service.app)\n"
            "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": SRC, **({"HOME": os.environ["HOME"]}
                                                   if "HOME" in os.environ else {})}, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
