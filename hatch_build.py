"""The wheel's build hook: compile the one-proposal check (``decide/_fast.py``) with mypyc.

``result.check`` runs a few hundred lines of plain Python per call; compiled, the same source runs
in about two thirds of the time. The compiled module sits beside its source in the wheel, and
Python imports it first. Where it cannot be built (no C compiler, no Python headers, an
unsupported platform) the wheel is the pure-Python one, with a warning: the answers are the same,
since they come from the same source, and a test holds the compiled and the interpreted module to
agree. ``GROUPEXPOSURE_PURE=1`` skips the compilation; an editable install never compiles.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COMPILED = ["src/groupexposure/decide/_fast.py"]


class CompileHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the mypyc build of :data:`COMPILED` to a wheel, or leaves it pure Python."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get("GROUPEXPOSURE_PURE", "") not in ("", "0"):
            self.app.display_info("GROUPEXPOSURE_PURE is set: a pure-Python wheel")
            return
        self._work = tempfile.mkdtemp(prefix="groupexposure-mypyc-")
        try:
            built = self._compile(self._work)
        except BaseException as exc:  # any failure: the pure wheel, said loudly
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.app.display_warning(
                f"groupexposure: the compiled check could not be built ({type(exc).__name__}: "
                f"{exc}); the wheel is pure Python (the same answers, slower single checks)")
            return
        for path, target in built:
            build_data["force_include"][path] = target
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def _compile(self, work: str) -> list[tuple[str, str]]:
        """mypyc's C for :data:`COMPILED`, built by setuptools' ``build_ext`` in ``work``:
        (shared library, its place in the wheel)."""
        from mypyc.build import mypycify
        from setuptools import Distribution

        config = os.path.join(work, "mypy.ini")  # not the project's: no plugins, no stubs here
        with open(config, "w") as f:
            f.write(f"[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n"
                    f"cache_dir = {os.path.join(work, 'cache')}\n")
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            modules = mypycify(["--config-file", config, *COMPILED], opt_level="3",
                               target_dir=os.path.join(work, "c"))
            dist = Distribution({"name": "groupexposure", "ext_modules": modules})
            cmd = dist.get_command_obj("build_ext")
            cmd.build_lib = os.path.join(work, "lib")  # type: ignore[attr-defined]
            cmd.build_temp = os.path.join(work, "tmp")  # type: ignore[attr-defined]
            cmd.ensure_finalized()
            cmd.run()
        finally:
            os.chdir(cwd)
        lib = os.path.join(work, "lib")
        out = []
        for path in glob.glob(os.path.join(lib, "**", "*.so"), recursive=True) + glob.glob(
                os.path.join(lib, "**", "*.pyd"), recursive=True):
            out.append((path, os.path.relpath(path, lib).replace(os.sep, "/")))
        if not out:
            raise RuntimeError("build_ext produced no extension module")
        self.app.display_info(f"groupexposure: compiled {', '.join(r for _, r in out)} "
                              f"(Python {sys.version.split()[0]})")
        return out

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work:
            shutil.rmtree(work, ignore_errors=True)
