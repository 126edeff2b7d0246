"""Every ``integrator`` call imports the whole command tree; it must stay light.

Typer builds every command to answer any one, so whatever a command module imports at module
level, every call pays for: the store (SQLAlchemy, alembic), the settings, the schemas and
mappings took over a second on each start, and the tests that run ``integrator`` as a process
paid it dozens of times. Each command imports what it needs inside its function. These tests
look at what a fresh interpreter has imported, not at a clock: the machine's speed does not
change what they see.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import integrator
from integrator.store import Store
from tests.services import free_port

ROOT = Path(integrator.__file__).resolve().parent.parent

# Imported by none of the paths below. (pydantic is not listed: typer itself imports it to
# convert the options it parses.)
HEAVY = (
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "aio_pika",
    "aiormq",
    "structlog",
    "httpx",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "uvloop",
    "pydantic_settings",
    "integrator.store",
    "integrator.settings",
    "integrator.errors",
    "integrator.operators",
    "integrator.engine",
    "deadletter",
    "destinations",
    "mappings",
    "schemas",
)

_PROBE = """
import json, sys
from integrator.cli import app
args, code = json.loads(sys.argv[1]), int(sys.argv[2])
if args is not None:
    try:
        app(args)
    except SystemExit as exc:
        assert (exc.code or 0) == code, exc.code
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def probed(
    args: list[str] | None, *, code: int = 0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter's ``import integrator.cli`` (and ``app(args)``, which must exit
    with ``code``); its stderr's last line lists the modules it then held."""
    return subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args), str(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
        check=True,
    )


def modules_of(result: subprocess.CompletedProcess[str]) -> set[str]:
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def imported_by(
    args: list[str] | None, *, code: int = 0, env: dict[str, str] | None = None
) -> set[str]:
    """Modules a fresh interpreter holds after ``import integrator.cli`` (and ``app(args)``)."""
    return modules_of(probed(args, code=code, env=env))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_cli_imports_nothing_heavy() -> None:
    modules = imported_by(None)
    assert "integrator.cli.destinations" in modules  # the probe did import the tree
    assert heavy(modules) == []
    assert "asyncio" not in modules  # only commands that run a loop


@pytest.mark.parametrize(
    "args",
    [["--help"], ["destinations", "--help"], ["messages", "list", "--help"], ["audit", "--help"]],
)
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    assert heavy(imported_by(args)) == []


def test_health_loads_neither_the_store_nor_the_access_rules() -> None:
    """The container's HEALTHCHECK runs ``integrator health`` every few seconds: it needs the
    settings and an HTTP client, nothing of the store (here nobody answers: exit 1)."""
    modules = imported_by(
        ["health", "--timeout", "0.5"], code=1, env={"INTEGRATOR_HTTP_PORT": str(free_port())}
    )
    assert "httpx" in modules  # it did ask
    loaded = [m for m in modules if m.startswith(("sqlalchemy", "alembic", "integrator.store"))]
    assert loaded == []
    assert not any(m.startswith(("schemas.parse", "schemas.referral")) for m in modules)
    assert not any(m.startswith("integrator.access") for m in modules)


# What a command reading an embedded store needs none of: the PostgreSQL driver, the access
# service (password hashing, TOTP, mail: the CLI acts as the local operator) and the mappers
# (loaded for a search by version only). About 70 ms of each such call's start-up.
def empty_store(tmp_path: Path) -> dict[str, str]:
    """A new embedded store in ``tmp_path``; the environment that names it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def make() -> None:
        async with await Store.open(url):
            pass

    asyncio.run(make())
    return {"INTEGRATOR_DATABASE_URL": url, "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path)}


NOT_FOR_READING = (
    "asyncpg",
    "argon2",
    "pyotp",
    "integrator.access.service",
    "mappings.registry",
    # The event models and their validators: the store names only validation's errors, and
    # the settings only a mapping limit (about 60-100 ms of such a call's start-up).
    *("schemas.parse", "schemas.referral", "schemas.diagnostic", "schemas.parties"),
    # The destination file's model and YAML: a listing names destinations by id only.
    *("destinations.config", "yaml"),
)


@pytest.mark.parametrize(
    "args",
    [
        ["messages", "list", "--json"],
        ["messages", "list", "--status", "dead", "--json"],
        ["deadletter", "list", "--json"],
        ["audit", "list", "--json"],
    ],
)
def test_reading_an_embedded_store_loads_only_what_it_uses(args: list[str], tmp_path: Path) -> None:
    env = empty_store(tmp_path)
    modules = imported_by(args, env=env)
    assert "integrator.store" in modules  # it did read the store
    assert [m for m in modules if m.startswith(NOT_FOR_READING)] == []


def test_a_search_by_version_still_knows_the_versions(tmp_path: Path) -> None:
    """The registry is loaded when a version is asked for, and refuses an unknown one."""
    env = empty_store(tmp_path)
    assert "mappings.registry" in imported_by(
        ["messages", "list", "--version", "REF-V2", "--json"], env=env
    )
    assert "mappings.registry" in imported_by(
        ["messages", "list", "--version", "ref-v9", "--json"], code=2, env=env
    )


def test_version_loads_nothing_of_the_store() -> None:
    """``--version`` names the store schema it migrates to, one constant: importing the store
    for it cost four times the rest of the call (about a second of CPU)."""
    from integrator.store.schema_version import HEAD_REVISION

    result = probed(["--version"])
    assert f"(store schema {HEAD_REVISION})" in result.stdout
    assert heavy(modules_of(result)) == []
