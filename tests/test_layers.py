"""The house rules of the layout, held by an AST scan of every import (README, "How the code is laid out").

Imports are told apart by where they stand: at the top of a module (loaded with it), under
``if TYPE_CHECKING:`` (never loaded at run time) and inside a function (loaded when called). The never
rules hold for top-level and in-function imports alike; type-only imports may point anywhere but into a cycle
of run-time imports.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "groupexposure"


@dataclass(frozen=True)
class Arrow:
    source: str  # dotted module, relative to the package: "core.control"
    target: str  # dotted module or package imported, relative to the package
    where: str  # "top", "function" or "type_checking"
    line: int


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        mod = node.module or ""
        if not mod.startswith("groupexposure"):
            return []
        base = mod.removeprefix("groupexposure").lstrip(".")
        return [base]
    here = source.split(".") if source else []
    package = here if is_package else here[:-1]
    up = node.level - 1
    base_parts = package[: len(package) - up] if up else package
    base = ".".join([*base_parts, *([node.module] if node.module else [])])
    if node.module:
        return [base]
    return [".".join(filter(None, [base, alias.name])) for alias in node.names]


def _external(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def _walk(tree: ast.AST) -> list[tuple[ast.Import | ast.ImportFrom, str]]:
    found: list[tuple[ast.Import | ast.ImportFrom, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for inner in child.body:
                    visit_one(inner, "type_checking")
                for inner in child.orelse:
                    visit_one(inner, where)
                continue
            visit_one(child, where)

    def visit_one(node: ast.AST, where: str) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append((node, where))
            return
        inner = "function" if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) else where
        visit(node, inner)

    visit(tree, "top")
    return found


def _scan() -> tuple[list[Arrow], list[tuple[str, str, str, int]]]:
    arrows: list[Arrow] = []
    external: list[tuple[str, str, str, int]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module(path)
        for node, where in _walk(ast.parse(path.read_text(encoding="utf-8"))):
            ours = isinstance(node, ast.ImportFrom) and (
                node.level > 0 or (node.module or "").startswith("groupexposure"))
            if isinstance(node, ast.ImportFrom) and ours:
                for target in _resolve(source, _is_package(path), node):
                    arrows.append(Arrow(source, target, where, node.lineno))
            else:
                for name in _external(node):
                    external.append((source, name, where, node.lineno))
    return arrows, external


ARROWS, EXTERNAL = _scan()


def _layer(module: str) -> str:
    return module.split(".")[0] if module else ""


# (layer, layers or top-level modules it must never import)
NEVER = {
    "core": {"result", "tables", "analysis", "decide", "measures", "report", "io", "validate", "cli",
             "ledger", "service", "returns", "engines"},
    "model": {"result", "tables", "analysis", "decide", "measures", "report", "io", "validate", "cli",
              "core", "ledger", "service", "returns", "engines", "_arrays", "safe", "datasets"},
    "io": {"core", "validate", "decide", "measures", "report", "result", "analysis", "cli"},
    "decide": {"analysis", "report", "cli"},
    "measures": {"analysis", "report", "cli"},
    "report": {"analysis", "cli", "validate", "core"},
}


@pytest.mark.parametrize("layer", sorted(NEVER))
def test_never_rules_hold(layer: str) -> None:
    broken = [
        f"{a.source} imports {a.target} ({a.where}, line {a.line})"
        for a in ARROWS
        if _layer(a.source) == layer and a.where != "type_checking" and _layer(a.target) in NEVER[layer]
    ]
    assert not broken, "\n".join(broken)


def test_report_is_imported_only_by_the_result_and_the_cli() -> None:
    allowed = {"result", "cli", "report", ""}  # "" : the package's __init__ re-exports plot_group
    broken = [f"{a.source} imports {a.target} (line {a.line})" for a in ARROWS
              if _layer(a.target) == "report" and _layer(a.source) not in allowed
              and a.where != "type_checking"]
    assert not broken, "\n".join(broken)


def test_no_cycle_of_top_level_imports() -> None:
    graph: dict[str, set[str]] = {}
    modules = {_module(p) for p in PACKAGE.rglob("*.py")}
    for a in ARROWS:
        if a.where == "top" and a.target in modules and a.target != a.source:
            graph.setdefault(a.source, set()).add(a.target)
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in seen and (cycle := visit(nxt)):
                return cycle
        seen[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in seen and (cycle := visit(node)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


HEAVY = ["matplotlib", "openpyxl", "networkx", "fastapi", "uvicorn", "starlette", "pyspark"]


def test_heavy_libraries_are_imported_only_inside_functions() -> None:
    broken = [f"{src} imports {name} at top level (line {line})" for src, name, where, line in EXTERNAL
              if name in HEAVY and where == "top" and _layer(src) != "service"]
    # service/ is the web edge: only the lazy gx.service and the CLI's serve import it
    assert not broken, "\n".join(broken)


def test_import_groupexposure_loads_no_heavy_library() -> None:
    code = ("import sys, groupexposure; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_scan_sees_imports() -> None:
    """The scan is not vacuous: it finds the known arrows of the pipeline."""
    pairs = {(a.source, a.target) for a in ARROWS}
    assert ("analysis", "core.control") in pairs
    assert ("decide._solver", "core.limits") in pairs
    assert any(a.where == "function" for a in ARROWS)
    assert any(a.where == "type_checking" for a in ARROWS)
