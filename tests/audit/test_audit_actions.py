"""The registry of audit actions (``integrator.audit_actions``) is the actions the engine writes.

A search by action is refused unless the action is in the registry (CLI exit 2, API 422), so
an action written but not registered could never be searched for, and one registered but
written nowhere would be offered as a choice that finds nothing. The first test reads every
place an entry is written, in the source, and holds the two together: a new action fails it
until it is registered.

A place an entry is written: a call of the store's audit writers (``add_audit`` and the
others in ``WRITERS``, with where each takes the action), and an audit row written whole (a
dict with an ``actor``, an ``action``, a ``target`` and ``details``). The action given there
is read as the running code has it (a constant, a module's name for one, a mapping's values);
a function's own parameter is passed on from a place that is itself read.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.audit_actions import ACTIONS, NO_LONGER_WRITTEN
from integrator.engine import Engine
from tests.cli_in_process import run_cli
from tests.http.support import api_client
from tests.integrator.support import settings_for

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("integrator", "deadletter")

WRITERS: Mapping[str, int | None] = {
    "add_audit": 1,
    "add_audit_unless_repeated": 1,
    "set_status_audited": None,  # keyword only
    "set_statuses_audited": None,
    "_audit": 1,  # access.service's helpers
    "_audit_as": 1,
    "_entry": 1,  # an access change's entry, appended in its own transaction
    "AuditEntry": 1,
    "_suspending_entry": 1,  # an access change's entry that names the tokens it suspends
    "RevisionAudit": 1,
    "_Asked": 3,  # try_now's request, which writes its entry
}
"""The writers of audit entries, by name, and the position of their action (else ``action=``)."""


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # rows copied as they were, by name
            relative = path.relative_to(ROOT).with_suffix("")
            name = ".".join(relative.parts).removesuffix(".__init__")
            yield name, ast.parse(path.read_text(encoding="utf-8"))


def _actions_given(tree: ast.Module) -> Iterator[ast.expr]:
    """Every expression given as an action where an entry is written."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if not isinstance(name, str) or name not in WRITERS:
                continue
            keyword = [k.value for k in node.keywords if k.arg == "action"]
            position = WRITERS[name]
            if keyword:
                yield keyword[0]
            elif position is not None and len(node.args) > position:
                yield node.args[position]
            else:
                raise AssertionError(f"{name} at line {node.lineno}: no action found")
        elif isinstance(node, ast.Dict):
            keys = {
                k.value: v
                for k, v in zip(node.keys, node.values, strict=True)
                if k is not None and isinstance(k, ast.Constant)
            }
            # A row to write has no id (the store gives it); a dict keyed like a row that has
            # one is something else, such as the columns of the CLI's audit listing.
            if {"actor", "action", "target", "details"} <= keys.keys() and "id" not in keys:
                yield keys["action"]


def _local_constants(tree: ast.Module, name: str) -> list[str] | None:
    """The strings ``name`` is assigned anywhere in ``tree``; None when it never is (a
    function's parameter)."""
    found = [
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    return found or None


def _values(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping):
        return {v for v in value.values() if isinstance(v, str)}
    if isinstance(value, tuple | list | set | frozenset):
        return {v for v in value if isinstance(v, str)}
    raise AssertionError(f"not an action: {value!r}")


def _resolved(module: str, tree: ast.Module, expr: ast.expr) -> set[str] | None:
    """The actions ``expr`` can be, as the running code has them; None for a parameter."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    namespace = vars(importlib.import_module(module))
    if isinstance(expr, ast.Subscript):
        try:  # DESTINATION_CHANGES[history_actions.REMOVE]: the one value
            return _values(eval(ast.unparse(expr), namespace))
        except NameError:  # EXPORTS[what]: any of the mapping's values
            return _resolved(module, tree, expr.value)
    if isinstance(expr, ast.Name | ast.Attribute):
        try:
            return _values(eval(ast.unparse(expr), namespace))
        except NameError:
            if isinstance(expr, ast.Name):
                local = _local_constants(tree, expr.id)
                return None if local is None else set(local)
            return None  # an attribute of a parameter (``audit.action``)
    raise AssertionError(
        f"{module}: an action written as {ast.unparse(expr)!r}: name it through "
        "integrator.audit_actions or a constant"
    )


def written_actions() -> tuple[set[str], int]:
    """Every action the source writes, and how many places write one."""
    actions: set[str] = set()
    places = 0
    for module, tree in _modules():
        for expr in _actions_given(tree):
            found = _resolved(module, tree, expr)
            if found is not None:
                actions |= found
                places += 1
    return actions, places


def test_the_registry_holds_exactly_the_actions_the_engine_writes() -> None:
    written, places = written_actions()
    assert places > 30  # the scan finds them
    registered = set(ACTIONS) - set(NO_LONGER_WRITTEN)
    assert not written - registered, f"written but not in audit_actions: {written - registered}"
    assert not registered - written, f"in audit_actions, written nowhere: {registered - written}"
    assert not written & set(NO_LONGER_WRITTEN)
    assert list(ACTIONS) == sorted(set(ACTIONS))


def test_an_action_the_engine_never_writes_is_refused_by_the_cli_naming_the_option(
    env: dict[str, str],
) -> None:
    """``audit list --action mesage.resend`` listed nothing, exit 0: "nobody resent it"."""
    refused = run_cli("audit", "list", "--action", "mesage.resend", env=env)
    assert refused.returncode == 2, refused
    said = " ".join(refused.stderr.split())
    assert said.startswith("error: --action: not an audit action; one of audit.export, "), said
    assert all(action in said for action in ACTIONS)
    assert "mesage" not in said and refused.stdout == ""
    taken = run_cli("audit", "list", "--action", " Message.Resend ", "--json", env=env)
    assert taken.returncode == 0, taken


@pytest.fixture
async def admin_api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    engine = Engine(settings)
    await engine.start()
    try:
        async with api_client(engine) as api:
            yield api
    finally:
        await engine.stop()


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit.csv"])
async def test_an_action_the_engine_never_writes_is_refused_by_the_api(
    admin_api: httpx.AsyncClient, path: str
) -> None:
    refused = await admin_api.get(path, params={"action": "message.resnd"})
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("action: not an audit action; one of audit.export, "), detail
    assert "resnd" not in detail
    found = await admin_api.get(path, params={"action": "message.resend"})
    assert found.status_code == 200, found.text
