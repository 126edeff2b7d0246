"""``integrator audit list|verify``: filters (the BSN by its keyed hash), JSON and CSV, and a
verify that exits 1 naming the entry someone changed behind the store's back."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from destinations.config import dump_destination
from integrator.cli import app
from integrator.settings import Settings
from integrator.store import Store
from integrator.store.engine import create_engine
from integrator.store.url import resolve
from tests.cli_in_process import json_error
from tests.integrator.support import destination
from tests.store.factories import make_event, make_message

SEARCH_KEY = "audit-tests-search-key"
BSN = "999999990"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_TIMEZONE": "Europe/Amsterdam",
        "USER": "piet",
    }


@pytest.fixture
def cli(env: dict[str, str]) -> Any:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def _fill(env: dict[str, str]) -> list[int]:
    patient = Settings(search_key=SEARCH_KEY).bsn_hash(BSN)

    async def fill() -> list[int]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return [
                await store.add_audit("person:anna@example.nl", "destination.update", "noord"),
                await store.add_audit(
                    "person:bert@example.nl",
                    "patient_data.view",
                    "messages.search",
                    details={"view": "messages.search", "bsn_hash": patient},
                ),
                await store.add_audit(
                    "=cmd()", "message.resend", "m-1", reason="GP called, re-sent"
                ),
            ]

    return asyncio.run(fill())


def _sql(env: dict[str, str], sql: str) -> None:
    async def go() -> None:
        engine = create_engine(resolve(env["INTEGRATOR_DATABASE_URL"]))
        try:
            async with engine.begin() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(go())


def test_list_filters_and_exports(cli: Any, env: dict[str, str]) -> None:
    ids = _fill(env)

    every = cli("audit", "list", "--json")
    assert every.exit_code == 0, every.output
    assert [e["id"] for e in json.loads(every.stdout)] == ids[::-1]

    by_actor = cli("audit", "list", "--actor", "person:anna@example.nl", "--json")
    assert [e["action"] for e in json.loads(by_actor.stdout)] == ["destination.update"]
    # Addresses are stored lower-cased: one typed otherwise still finds the person.
    by_typed = cli("audit", "list", "--actor", "person:Anna@Example.NL", "--json")
    assert [e["action"] for e in json.loads(by_typed.stdout)] == ["destination.update"]
    # A bare address matches no entry: refused with the forms that do, not an empty listing.
    bare = cli("audit", "list", "--actor", "anna@example.nl")
    assert bare.exit_code == 2 and bare.stdout == ""
    assert "--actor: give person:<email>, token:<name>, local:<user> or engine:<job>" in " ".join(
        bare.stderr.split()
    )
    limited = json.loads(cli("audit", "list", "--limit", "1", "--json").stdout)
    assert [e["id"] for e in limited] == [ids[2]]
    # (A search by BSN is itself recorded: test_cli_views.py.)
    by_patient = json.loads(cli("audit", "list", "--bsn", "9999.99.990", "--json").stdout)
    assert [e["id"] for e in by_patient] == [ids[1]]
    other_patient = cli("audit", "list", "--bsn", "111222333", "--json")
    assert json.loads(other_patient.stdout) == []
    assert json.loads(cli("audit", "list", "--until", "2000-01-01", "--json").stdout) == []

    exported = cli("audit", "list", "--action", "message.resend", "--csv")
    assert exported.exit_code == 0, exported.output
    [row] = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert row["actor"] == "'=cmd()" and row["reason"] == "GP called, re-sent"
    assert row["target"] == "m-1" and json.loads(row["details"]) == {}

    table = cli("audit", "list")
    assert table.exit_code == 0 and "destination.update" in table.stdout


def test_list_json_and_csv_say_where_each_entry_came_from(cli: Any, env: dict[str, str]) -> None:
    """``origin`` as the API and the console's audit page give it: the recorded address first,
    else what the actor's kind tells; in the CSV as its last two columns."""

    async def fill() -> list[int]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return [
                await store.add_audit(
                    "person:anna@example.nl",
                    "destination.update",
                    "noord",
                    details={"source": "192.0.2.7"},
                ),
                await store.add_audit("token:lab-desk", "message.resend", "m-1"),
                await store.add_audit("local:piet", "destination.pause", "noord"),
                await store.add_audit("file", "destination.file", "noord"),
            ]

    ids = asyncio.run(fill())
    origins: list[dict[str, str | None]] = [
        {"kind": "address", "name": "192.0.2.7"},
        {"kind": "token", "name": "lab-desk"},
        {"kind": "command_line", "name": None},
        {"kind": "engine", "name": None},
    ]
    listed = cli("audit", "list", "--json")
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.stdout)
    assert [e["id"] for e in entries] == ids[::-1]
    assert [e["origin"] for e in entries] == origins[::-1]
    assert entries[-1]["details"] == {"source": "192.0.2.7"}  # kept as it was

    exported = cli("audit", "list", "--csv")
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.splitlines()[0] == (
        "id,at,actor,action,target,reason,details,hash,origin,origin_name,prev_hash"
    )
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(r["origin"], r["origin_name"]) for r in rows] == [
        (o["kind"], o["name"] or "") for o in origins[::-1]
    ]


def test_list_refuses_bad_terms_without_echoing_them(cli: Any, env: dict[str, str]) -> None:
    _fill(env)
    bad_bsn = cli("audit", "list", "--bsn", "12345")
    assert bad_bsn.exit_code == 2 and "12345" not in bad_bsn.output
    assert cli("audit", "list", "--since", "yesterday").exit_code == 2
    assert cli("audit", "list", "--json", "--csv").exit_code == 2


@pytest.mark.parametrize(
    "option", ["--actor", "--action", "--target", "--message", "--destination"]
)
def test_list_refuses_a_bsn_in_a_free_text_term_naming_the_option(
    cli: Any, env: dict[str, str], option: str
) -> None:
    """As the console and the API refuse it (``audit.misplaced_terms``): a patient is looked
    up with --bsn, and a CSV export would have recorded the number among its terms."""
    _fill(env)
    for typed in ("123456782", "123 456 782"):
        refused = cli("audit", "list", "--csv", option, typed)
        assert refused.exit_code == 2
        assert f"{option}: this looks like a BSN: search by BSN instead" in refused.output
        assert typed not in refused.output
    assert "audit.export" not in cli("audit", "list").stdout  # nothing was exported


def test_commands_never_create_a_store(cli: Any, tmp_path: Path) -> None:
    assert cli("audit", "list").exit_code == 1
    assert cli("audit", "verify").exit_code == 1
    assert not (tmp_path / "store.db").exists()


def test_verify_exits_0_when_intact_and_1_naming_the_edited_entry(
    cli: Any, env: dict[str, str]
) -> None:
    ids = _fill(env)

    intact = cli("audit", "verify", "--json")
    assert intact.exit_code == 0, intact.output
    view = json.loads(intact.stdout)
    assert view["intact"] and view["checked"] == 3 and view["last_id"] == ids[-1]
    shown = cli("audit", "verify", "--quiet")
    assert shown.exit_code == 0 and "3 entries checked" in shown.stdout

    _sql(env, f"UPDATE audit_log SET reason = 'nothing happened' WHERE id = {ids[2]}")
    broken = cli("audit", "verify", "--quiet")
    assert broken.exit_code == 1
    assert f"broken at entry {ids[2]}" in broken.output and "edited" in broken.output


def test_verify_names_the_entry_after_a_removed_one(cli: Any, env: dict[str, str]) -> None:
    ids = _fill(env)
    _sql(env, f"DELETE FROM audit_log WHERE id = {ids[1]}")

    broken = cli("audit", "verify", "--json")

    assert broken.exit_code == 1
    view = json.loads(broken.stdout)
    assert (view["intact"], view["broken_id"], view["checked"]) == (False, ids[2], 1)
    assert "removed" in view["problem"]


def test_verify_expect_checks_a_hash_noted_earlier(cli: Any, env: dict[str, str]) -> None:
    ids = _fill(env)
    noted = json.loads(cli("audit", "verify", "--json").stdout)
    expect = f"{noted['last_id']}:{noted['last_hash']}"
    listed = json.loads(cli("audit", "list", "--limit", "1", "--json").stdout)
    assert listed[0]["hash"] == noted["last_hash"]

    assert cli("audit", "verify", "--quiet", "--expect", expect).exit_code == 0
    assert cli("audit", "verify", "--expect", "3:abc").exit_code == 2
    _sql(env, f"DELETE FROM audit_log WHERE id = {ids[2]}")
    assert cli("audit", "verify", "--quiet").exit_code == 0  # the end cut off: chain alone holds
    cut = cli("audit", "verify", "--quiet", "--expect", expect)
    assert cut.exit_code == 1 and "gone" in cut.output


def test_list_refuses_a_destination_that_names_nothing(
    cli: Any, env: dict[str, str], tmp_path: Path
) -> None:
    """``--destination nosuch`` listed nothing, exit 0, as if nothing had happened there; the
    message listings refuse it. A destination removed since stays searchable while the trail
    (or a stored message) names it, and one configured without entries is an empty answer."""
    dest_dir = tmp_path / "destinations"
    dest_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (dest_dir / "lab-west.yaml").write_text(dump_destination(config), encoding="utf-8")
    env["INTEGRATOR_DESTINATIONS_DIR"] = str(dest_dir)
    ids = _fill(env)  # "noord" is only in the trail: its file is gone

    async def send_to_zuid() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            await store.accept_event(make_event(), [make_message(destination_id="zuid")])

    asyncio.run(send_to_zuid())

    removed = cli("audit", "list", "--destination", "noord", "--json")
    assert removed.exit_code == 0, removed.output
    assert [e["id"] for e in json.loads(removed.stdout)] == [ids[0]]
    for known in ("lab-west", "zuid"):
        empty = cli("audit", "list", "--destination", known, "--json")
        assert empty.exit_code == 0, empty.output
        assert json.loads(empty.stdout) == []

    for extra in ((), ("--csv",), ("--json",), ("--bsn", BSN)):
        refused = cli("audit", "list", "--destination", "nosuch", *extra)
        assert refused.exit_code == 2, (extra, refused.output)
        said = " ".join(refused.stderr.split())
        assert (
            "--destination: no destination has that id, and no audit entry or stored message "
            "names one; configured: lab-west"
        ) in said, said
        if "--json" in extra:  # the same refusal, as JSON, naming the option
            assert json_error(refused.stdout, 2)["fields"] == ["--destination"]
        else:
            assert refused.stdout == ""
        assert "nosuch" not in said and "nosuch" not in refused.stdout
    # Refused before anything was read: no search or export recorded.
    listed = json.loads(cli("audit", "list", "--json").stdout)
    assert [e["action"] for e in listed if e["actor"] == "local:piet"] == []


def test_an_action_or_an_id_typed_otherwise_still_finds_its_entries(
    cli: Any, env: dict[str, str]
) -> None:
    """``--action Message.Resend `` and an event id pasted in upper case without dashes found
    nothing, exit 0 ("nobody did anything"): actions are written in lower case, and ids as the
    store keeps them."""
    event_id = "9f64a799-fcf0-417e-b717-01a665f70245"

    async def fill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            await store.add_audit("local:root", "event.route", event_id, reason="GP called")

    asyncio.run(fill())
    typed = event_id.replace("-", "").upper()
    by_target = json.loads(cli("audit", "list", "--target", f" {typed}", "--json").stdout)
    by_action = json.loads(cli("audit", "list", "--action", " Event.Route ", "--json").stdout)
    assert [e["target"] for e in by_target] == [event_id]
    assert [e["target"] for e in by_action] == [event_id]


def test_a_target_id_shortened_as_the_table_shows_it_finds_its_entries(
    cli: Any, env: dict[str, str]
) -> None:
    """The table shortens the ids it names (``9f64a799``), as ``--message`` takes them back;
    ``--target 9f64a799`` found nothing, exit 0, as if nobody had acted on that event. A start
    that two targets share is refused, both listed; a target that is no id is taken as typed."""
    event_id = "9f64a799-fcf0-417e-b717-01a665f70245"
    twins = ["5b2e0c11-0000-4000-8000-000000000001", "5b2e0c11-0000-4000-8000-000000000002"]

    async def add(*targets: str) -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for target in targets:
                await store.add_audit("local:root", "message.resend", target, reason="GP called")

    asyncio.run(add(event_id, event_id))
    asyncio.run(add("beef"))
    table = cli("audit", "list").stdout
    assert " 9f64a799 " in table and event_id not in table, table

    by_short = cli("audit", "list", "--target", "9F64A799", "--json")
    assert by_short.exit_code == 0, by_short.output
    assert [e["target"] for e in json.loads(by_short.stdout)] == [event_id, event_id]

    asyncio.run(add(*twins))
    shared = cli("audit", "list", "--target", "5b2e0c11")
    assert shared.exit_code == 2, shared.output
    said = " ".join(shared.stderr.split())
    assert "--target: audit target id 5b2e0c11 is ambiguous" in said, said
    assert all(twin in said for twin in twins), said

    # A destination called "beef" is a whole target, found as typed, not a start of an id.
    by_name = json.loads(cli("audit", "list", "--target", "beef", "--json").stdout)
    assert [e["target"] for e in by_name] == ["beef"]
    nobody = cli("audit", "list", "--target", "0123abcd", "--json")
    assert nobody.exit_code == 0 and json.loads(nobody.stdout) == [], nobody.output
