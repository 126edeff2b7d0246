"""`schemas` stays pure: no imports of the project's other packages, no I/O outside generate.

The mappers and the engine depend on it; a dependency pointing back out would make a cycle.
`shapes` (the sentences the engine writes with values, which the console words) is allowed: it
imports nothing but the standard library, so no cycle can pass through it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "schemas"
ALLOWED_ROOTS = {
    "__future__",
    "base64",
    "binascii",
    "collections",
    "dataclasses",
    "datetime",
    "difflib",
    "functools",
    "json",
    "pathlib",
    "re",
    "typing",
    "uuid",
    "pydantic",
    "pydantic_core",
    "jiter",  # pydantic's JSON parser on its own: finds a key given twice (parse.py)
    "schemas",
    "shapes",
}
IO_MODULES = {"pathlib", "os", "io", "shutil", "socket", "sys"}
MODULES = sorted(PACKAGE.glob("*.py"))


def _imported_roots(tree: ast.Module) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_package_has_modules() -> None:
    assert {path.name for path in MODULES} >= {"__init__.py", "identifiers.py", "generate.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_imports_only_stdlib_pydantic_and_itself(path: Path) -> None:
    roots = _imported_roots(ast.parse(path.read_text(encoding="utf-8")))
    assert roots <= ALLOWED_ROOTS, f"{path.name} imports {sorted(roots - ALLOWED_ROOTS)}"


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.name != "generate.py"], ids=lambda path: path.name
)
def test_no_io_outside_generate(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not (_imported_roots(tree) & IO_MODULES), path.name
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not (calls & {"open", "print", "input"}), path.name
