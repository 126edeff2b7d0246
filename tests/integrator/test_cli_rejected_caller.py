"""``integrator rejected list|show`` name who sent each piece of rejected input (``caller``).

``submit`` without a running engine keeps a refused file with the command's user
(``local:<user>``, as the audit log names the CLI); a piece kept before the store recorded
callers (or by a path that names none) shows ``-`` and ``null``. The table shows the caller as
the terminal's width allows, as the other listings decide their columns; ``--json`` always has
it.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from integrator.cli.rejected import _table
from integrator.store import Store
from tests.cli_in_process import run_cli as cli


def _kept(env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]) -> tuple[str, str]:
    """A file refused by ``submit`` as user anna, and a piece kept with no caller."""
    broken = dict(referral_data, event_id="not-a-uuid")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    submitted = cli("submit", "--json", str(path), env={**env, "USER": "anna"})
    assert submitted.returncode == 2, submitted.stdout + submitted.stderr
    [outcome] = json.loads(submitted.stdout)

    async def without_caller() -> str:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await store.reject_event(b"{}", "amqp", [])

    return outcome["rejected_id"], asyncio.run(without_caller())


def test_the_listing_and_show_name_the_caller(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    by_anna, unnamed = _kept(env, tmp_path, referral_data)
    listed = cli("rejected", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    callers = {r["id"]: r["caller"] for r in json.loads(listed.stdout)}
    assert callers == {by_anna: "local:anna", unnamed: None}

    wide = cli("rejected", "list", env={**env, "COLUMNS": "160"})
    assert wide.returncode == 0, wide.stderr
    [header, *rows] = [line for line in wide.stdout.splitlines() if line.strip()][1:]
    assert "caller" in header.split()
    row_of = {r.split()[0]: r.split() for r in rows}
    assert "local:anna" in row_of[by_anna[:8]] and "-" in row_of[unnamed[:8]]

    shown = cli("rejected", "show", by_anna, "--json", env=env)
    assert json.loads(shown.stdout)["caller"] == "local:anna"
    table = cli("rejected", "show", by_anna, env={**env, "COLUMNS": "160"})
    assert any(line.split()[:2] == ["caller", "local:anna"] for line in _cells(table.stdout))
    older = cli("rejected", "show", unnamed, env={**env, "COLUMNS": "160"})
    assert any(line.split()[:2] == ["caller", "-"] for line in _cells(older.stdout))


def test_show_names_the_zd_number_and_provider_as_the_api_does(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """What intake could read of them, as ``GET /api/v1/rejected/{id}`` gives them; "-" for
    a piece they could not be read from."""
    by_anna, unnamed = _kept(env, tmp_path, referral_data)
    shown = json.loads(cli("rejected", "show", by_anna, "--json", env=env).stdout)
    assert (shown["zd_number"], shown["provider_id"]) == ("ZD100000001", "ziekenhuis-noord")
    table = _cells(cli("rejected", "show", by_anna, env={**env, "COLUMNS": "160"}).stdout)
    assert ["ZD", "number", "ZD100000001"] in [line.split()[:3] for line in table]
    assert ["provider", "ziekenhuis-noord"] in [line.split()[:2] for line in table]
    older = _cells(cli("rejected", "show", unnamed, env={**env, "COLUMNS": "160"}).stdout)
    assert ["ZD", "number", "-"] in [line.split()[:3] for line in older]
    assert ["provider", "-"] in [line.split()[:2] for line in older]


def test_a_narrow_terminal_leaves_the_caller_out_and_keeps_the_rest_whole() -> None:
    """The width rule of every listing (``views.fitted_table``): ids, times and ZD numbers
    whole; the caller, like the audit's actor, only where it fits."""
    row = {
        "id": "4715f593-0000-4000-8000-000000000001",
        "received_at": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "zd_number": "ZD300000001",
        "source": "http",
        "caller": "token:huisartsenpost-regio-noord",
        "bytes": 2027,
        "problems": ["event_id: uuid_format"],
    }

    def shown(width: int) -> str:
        out = Console(width=width, record=True, file=io.StringIO())
        out.print(_table([row], "Rejected input", zone=UTC, width=width))
        return out.export_text()

    narrow = shown(80)
    assert "caller" not in narrow and "token:" not in narrow
    assert "4715f593" in narrow and "ZD300000001" in narrow and "2027" in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    wide = shown(120)
    assert "token:huisartsenpost-regio-noord" in wide and "ZD300000001" in wide


def _cells(output: str) -> list[str]:
    """The lines of a boxed table with its borders taken out."""
    return [line.replace("│", " ").strip() for line in output.splitlines()]
