"""The command line survives faults (issue: hostile input and faults): one clear line, exit 2, no traceback;
an interrupted run never leaves new files beside old ones; piping to ``head`` ends quietly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import groupexposure as gx
from groupexposure import analysis, cli
from groupexposure.datasets import ningxia_path, write_portfolio

RUN = [sys.executable, "-m", "groupexposure"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN, *args], capture_output=True, text=True, env=ENV, timeout=300, **kw)


def _one_line_no_trace(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_out_that_is_a_file_is_one_clear_line(tmp_path: Path) -> None:
    target = tmp_path / "results.csv"
    target.write_text("keep me")
    proc = _run("analyze", str(ningxia_path()), "--out", str(target))
    assert proc.returncode == 2
    assert "is a file, not a folder" in _one_line_no_trace(proc)
    assert target.read_text() == "keep me"


def test_out_that_cannot_be_created_is_one_clear_line() -> None:
    proc = _run("analyze", str(ningxia_path()), "--out", "/proc/groupexposure-cannot-be-here")
    assert proc.returncode == 2
    assert _one_line_no_trace(proc).startswith("groupexposure analyze:")


@pytest.mark.parametrize("inside", [".", "out"])
def test_out_equal_to_or_inside_the_input_folder_is_refused(tmp_path: Path, inside: str) -> None:
    data = tmp_path / "data"
    write_portfolio(gx.datasets.ningxia(), data)
    before = sorted(p.name for p in data.iterdir())
    proc = _run("analyze", str(data), "--out", str(data / inside))
    assert proc.returncode == 2
    assert "is the input folder" in _one_line_no_trace(proc)
    assert sorted(p.name for p in data.iterdir()) == before


def test_a_run_replaces_the_reports_of_an_earlier_run_it_did_not_rewrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run("analyze", str(ningxia_path()), "--out", str(out), "--report", "always").returncode == 0
    assert (out / "report.html").exists()
    (out / "my-notes.txt").write_text("mine")
    assert _run("analyze", str(ningxia_path()), "--out", str(out), "--report", "never").returncode == 0
    names = {p.name for p in out.iterdir()}
    assert "report.html" not in names and "report.xlsx" not in names
    assert {"groups.csv", "entities.csv", "members.csv", "issues.csv", "my-notes.txt"} <= names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging folder left


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_the_old_results_whole(tmp_path: Path, sig: signal.Signals) -> None:
    """Interrupt at several moments: the folder holds the old run's files exactly, or the new run's whole
    set (when it had finished), never a mixture; no staging folder is left behind."""
    data = tmp_path / "data"
    write_portfolio(gx.datasets.synthetic(30_000, seed=1), data)
    out = tmp_path / "out"
    (out).mkdir()
    for name in ("groups.csv", "entities.csv", "members.csv", "issues.csv"):
        (out / name).write_text(f"old {name}\n")
    (out / ".groupexposure-output").write_text("")
    old = _snapshot(out)
    assert _run("analyze", str(data), "--out", str(tmp_path / "whole"), "--report", "never").returncode == 0
    whole = _snapshot(tmp_path / "whole")  # what a finished run writes
    start = time.perf_counter()
    _run("--help")  # how long the interpreter takes to import the library here (a Ctrl-C before main()
    startup = time.perf_counter() - start  # runs is Python's own business, not this test's)
    for delay in (1.5 * startup + 0.2, 1.5 * startup + 1.5, 1.5 * startup + 3.0):
        proc = subprocess.Popen([*RUN, "analyze", str(data), "--out", str(out), "--report", "never"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
        assert "Traceback" not in err
        now = _snapshot(out)
        assert now in (old, whole), f"signal after {delay}s left a mixture in the output folder"
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
        old = now


def test_output_piped_to_head_ends_quietly() -> None:
    cmd = f"{sys.executable} -m groupexposure demo --out \"$TMPDIR_OUT\" | head -n 1"
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=300,
                              env={**ENV, "TMPDIR_OUT": str(Path(tmp) / "out")})
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == ""


def test_an_unexpected_exception_is_one_line_naming_the_trace_file(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(analysis, "analyze", broken)
    code = cli.main(["analyze", str(ningxia_path()), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    line = _one_line_no_trace_text(err)
    assert "internal error (RuntimeError: something inside broke)" in line
    trace = Path(line.split("the full trace is in ")[1].split(";")[0])
    assert "RuntimeError: something inside broke" in trace.read_text()
    trace.unlink()


def _one_line_no_trace_text(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_engine_spark_without_pyspark_is_one_clear_line(tmp_path: Path, monkeypatch,
                                                         capsys) -> None:
    # SPEC §9: a missing extra is a usage error naming what to install, never a trace
    from groupexposure.cli import main
    from groupexposure.datasets import ningxia_path

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if pyspark were not installed
    assert main(["analyze", str(ningxia_path()), "--engine", "spark", "--out",
                 str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'groupexposure[spark]'" in err and "Traceback" not in err
