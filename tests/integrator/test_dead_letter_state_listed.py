"""Every listing of messages says where a dead one stands, by the dead letters' own rule
(``message_reads.listed_messages``): the API's and ``messages list --json`` as
``dead_letter_state``, the CLI's table beside the status. A dead message whose later resend was
delivered needs nobody; one whose resend died too is still open."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

from integrator.access import Grant, Role
from integrator.store import Store
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.http.support import api_client
from tests.integrator.test_cli_reading import cli, env_for
from tests.store.dead_families import four_dead_letters

EXPECTED = {
    "ZD300000001": "open",
    "ZD300000002": "resolved",
    "ZD300000003": "resending",
    "ZD300000004": "open",
}


def _states(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    """The originals' states by ZD number (each ZD number's oldest row: the original)."""
    return {r["zd_number"]: r["dead_letter_state"] for r in reversed(rows)}


async def test_the_api_lists_each_dead_message_with_its_state(tmp_path: Path) -> None:
    async with noord_engine(tmp_path) as engine:
        ids = await four_dead_letters(engine.store)
        async with api_client(engine) as client:
            dead = await client.get("/api/v1/messages", params={"status": "dead"})
            everything = await client.get("/api/v1/messages")
            searched = await client.post("/api/v1/messages/search", json={"status": "dead"})
    assert dead.status_code == 200, dead.text
    originals = {r["id"]: r["dead_letter_state"] for r in dead.json()}
    assert {zd: originals[i] for zd, i in ids.items()} == EXPECTED
    assert _states(searched.json()) == EXPECTED
    # Not dead: no state (the resends delivered or retrying).
    assert {r["dead_letter_state"] for r in everything.json() if r["status"] != "dead"} == {None}


def test_messages_list_says_it_in_json_and_beside_the_status(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> dict[str, str]:
        async with await Store.open(url) as store:
            return await four_dead_letters(store)

    ids = asyncio.run(fill())
    env = {**env_for(url, tmp_path), "COLUMNS": "200"}
    listed = cli(env, "messages", "list", "--status", "dead", "--json")
    table = cli(env, "messages", "list", "--zd", "ZD300000002")
    assert listed.exit_code == 0, listed.output
    by_id = {r["id"]: r["dead_letter_state"] for r in json.loads(listed.stdout)}
    assert {zd: by_id[i] for zd, i in ids.items()} == EXPECTED
    assert table.exit_code == 0, table.output
    assert "dead (resolved)" in table.stdout
    assert "delivered" in table.stdout  # the resend that resolved it, listed beside it


async def test_one_message_and_its_event_say_it_too(tmp_path: Path) -> None:
    """``GET /api/v1/messages/{id}``, ``GET /api/v1/events/{id}`` and the console's message
    page: a dead letter a resend resolved is not shown as plain dead beside the listing's
    *dead (resolved)*."""
    async with noord_engine(tmp_path) as engine:
        ids = await four_dead_letters(engine.store)
        resolved = ids["ZD300000002"]
        message = await engine.store.get_message(resolved)
        assert message is not None
        async with api_client(engine) as client:
            detail = await client.get(f"/api/v1/messages/{resolved}")
            event = await client.get(f"/api/v1/events/{message.event_id}")
            opened = await client.get(f"/api/v1/messages/{ids['ZD300000001']}")
        async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
            full = await sam.get(f"/messages/{resolved}")
        async with signed_in(engine, "vic@example.org", Grant(Role.VIEWER)) as vic:
            summary = await vic.get(f"/messages/{resolved}")
    assert detail.json()["dead_letter_state"] == "resolved"
    assert opened.json()["dead_letter_state"] == "open"
    states = {m["id"]: m["dead_letter_state"] for m in event.json()["messages"]}
    assert states[resolved] == "resolved"
    for page in (full, summary):
        assert page.status_code == 200, page.text
        assert '<span class="hint dead-state" id="dead-state">· resolved</span>' in page.text


def test_messages_show_and_events_show_say_it_beside_the_status(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> tuple[str, str]:
        async with await Store.open(url) as store:
            resolved = (await four_dead_letters(store))["ZD300000002"]
            message = await store.get_message(resolved)
            assert message is not None
            return resolved, message.event_id

    resolved, event_id = asyncio.run(fill())
    env = {**env_for(url, tmp_path), "COLUMNS": "200"}
    shown = cli(env, "messages", "show", resolved)
    event = cli(env, "events", "show", event_id)
    assert shown.exit_code == 0, shown.output
    assert (
        "│ status            │ dead (resolved)" in shown.stdout or "dead (resolved)" in shown.stdout
    )
    assert event.exit_code == 0, event.output
    assert "dead (resolved)" in event.stdout


def _csv_states(text: str, ids: dict[str, str]) -> dict[str, str]:
    rows = {r["message_id"]: r for r in csv.DictReader(io.StringIO(text))}
    return {zd: rows[i]["dead_letter_state"] for zd, i in ids.items()}


def test_messages_list_csv_says_it_in_a_column_of_its_own(tmp_path: Path) -> None:
    """A report of the dead messages counted the ones support had dealt with (``dead
    (resolved)`` in the table) among those still to act on: the CSV said only ``dead``. Added
    after the columns before it, so a report reading those by position reads them still."""
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> dict[str, str]:
        async with await Store.open(url) as store:
            return await four_dead_letters(store)

    ids = asyncio.run(fill())
    exported = cli(env_for(url, tmp_path), "messages", "list", "--csv")
    assert exported.exit_code == 0, exported.output
    assert ",resend_of,dead_letter_state," in exported.stdout.splitlines()[0] + ","
    assert _csv_states(exported.stdout, ids) == EXPECTED
    not_dead = [r for r in csv.DictReader(io.StringIO(exported.stdout)) if r["status"] != "dead"]
    assert not_dead and {r["dead_letter_state"] for r in not_dead} == {""}


async def test_the_api_csv_says_it_too(tmp_path: Path) -> None:
    async with noord_engine(tmp_path) as engine:
        ids = await four_dead_letters(engine.store)
        async with api_client(engine) as client:
            exported = await client.get("/api/v1/messages.csv", params={"status": "dead"})
    assert exported.status_code == 200, exported.text
    assert _csv_states(exported.text, ids) == EXPECTED
