"""The wheel's build hook (``hatch_build.py``): the compiled check is an option, never a condition.

Real builds with pip, in its isolated build environment, of this checkout: a machine without a
C compiler (``CC`` set to a compiler that always fails) and one that asks for the pure wheel
(``GROUPEXPOSURE_PURE=1``) both get a pure-Python wheel that holds the check's source, and the first
is told so in words."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not (ROOT / "hatch_build.py").is_file(),
                                reason="needs the project's checkout (hatch_build.py)")


def _wheel(tmp_path: Path, **env: str) -> tuple[Path, str]:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-v", "-w", str(tmp_path)],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (wheel,) = tmp_path.glob("groupexposure-*.whl")
    return wheel, out.stdout + out.stderr


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def test_without_a_compiler_the_wheel_is_pure_python_and_says_so(tmp_path):
    wheel, log = _wheel(tmp_path, CC="false", GROUPEXPOSURE_PURE="")
    assert wheel.name.endswith("-py3-none-any.whl")
    names = _names(wheel)
    assert "groupexposure/decide/_fast.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    assert "the compiled check could not be built" in log
    assert "the wheel is pure Python (the same answers, slower single checks)" in log


def test_groupexposure_pure_asks_for_the_pure_wheel(tmp_path):
    wheel, log = _wheel(tmp_path, GROUPEXPOSURE_PURE="1")
    assert wheel.name.endswith("-py3-none-any.whl")
    assert not [n for n in _names(wheel) if n.endswith((".so", ".pyd"))]
    assert "GROUPEXPOSURE_PURE is set: a pure-Python wheel" in log
