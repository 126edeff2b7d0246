"""Every view of patient data on the server's CLI is in the audit log (docs/product.md §8), as
the API records it: ``patient_data.view`` under ``local:<user>``, the view, the target, the BSN
as its keyed hash (never the BSN) and, for a search, how many it found; written before anything
is printed, by commands that open the store read-only. A listing without patient data records
nothing, and an entry that cannot be written means nothing is shown."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from integrator.cli import app
from integrator.patient_views import NOT_SHOWN, PATIENT_DATA_VIEW
from integrator.settings import Settings
from integrator.store import AttemptRecord, AuditRecord, Store
from integrator.store.engine import create_engine
from integrator.store.url import resolve
from tests.cli_in_process import json_error
from tests.store.factories import T0, make_event, make_message

SEARCH_KEY = "view-tests-search-key"
BSN = "999990019"
BSN_HASH = Settings(search_key=SEARCH_KEY).bsn_hash(BSN)
PATIENT = "Jansen"
ACK = f"MSH|^~\\&|HIS|ZNOORD\rMSA|AE|x|patient {PATIENT} {BSN} unknown".encode()


@dataclass(frozen=True)
class World:
    env: dict[str, str]
    event_id: str
    delivered: str  # a message of the event
    dead: str  # a dead letter of the same event, whose receiver named the patient


@pytest.fixture
def world(tmp_path: Path) -> World:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    event = make_event(
        bsn_hash=BSN_HASH,
        payload={"patient": {"bsn": BSN, "name": {"family": PATIENT}}},
    )
    delivered, dead = make_message(), make_message(destination_id="lab-west")

    async def fill() -> None:
        async with await Store.open(url) as store:
            await store.accept_event(event, [delivered, dead])
            await store.record_attempt(
                AttemptRecord(dead.id, 1, T0, 12.5, "deadletter", ack_code="AE", ack_bytes=ACK),
                status="dead",
                last_error=f"ACK AE: patient {PATIENT} {BSN} unknown",
            )

    asyncio.run(fill())
    env = {
        "INTEGRATOR_DATABASE_URL": url,
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "USER": "piet",
    }
    return World(env, event.id, delivered.id, dead.id)


def cli(world: World, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=world.env)


def trail(world: World) -> list[AuditRecord]:
    async def read() -> list[AuditRecord]:
        async with await Store.open(world.env["INTEGRATOR_DATABASE_URL"]) as store:
            return await store.list_audit(limit=1000)

    return asyncio.run(read())


def views(world: World) -> list[AuditRecord]:
    return [e for e in trail(world) if e.action == PATIENT_DATA_VIEW]


def assert_no_bsn_in_the_trail(world: World) -> None:
    entries = trail(world)
    assert entries
    assert not any(BSN in repr(e) or BSN in json.dumps(e.details) for e in entries)


def shown(world: World, *args: str) -> Result:
    result = cli(world, *args)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("as_json", [False, True])
def test_messages_show_records_one_view_of_the_message(world: World, as_json: bool) -> None:
    result = shown(world, "messages", "show", world.delivered[:8], *(["--json"] * as_json))
    assert BSN in result.stdout and PATIENT in result.stdout  # the patient is on the screen
    [view] = views(world)
    assert (view.actor, view.action, view.target) == (
        "local:piet",
        PATIENT_DATA_VIEW,
        world.delivered,
    )
    # What the API records for GET /api/v1/messages/{id}; no client address on the server.
    assert view.details == {
        "view": "message",
        "bsn_hash": BSN_HASH,
        "event_id": world.event_id,
        "source": None,
    }
    assert_no_bsn_in_the_trail(world)


def test_events_show_records_one_view_of_the_event(world: World) -> None:
    result = shown(world, "events", "show", world.event_id)
    assert BSN in result.stdout
    [view] = views(world)
    assert (view.actor, view.target) == ("local:piet", world.event_id)
    assert view.details == {"view": "event", "bsn_hash": BSN_HASH, "source": None}
    assert_no_bsn_in_the_trail(world)


def test_deadletter_show_records_one_view_for_the_receivers_words(world: World) -> None:
    result = shown(world, "deadletter", "show", world.dead, "--json")
    assert f"patient {PATIENT}" in json.loads(result.stdout)["last_ack"]
    [view] = views(world)
    assert (view.actor, view.target) == ("local:piet", world.dead)
    assert view.details == {
        "view": "deadletter",
        "bsn_hash": BSN_HASH,
        "event_id": world.event_id,
        "source": None,
    }
    assert_no_bsn_in_the_trail(world)


@pytest.mark.parametrize(
    ("command", "search", "found"),
    [
        (("messages", "list"), "messages.search", 2),
        (("events", "list"), "events.search", 1),
        (("audit", "list"), "audit.search", 0),
    ],
)
def test_a_search_by_bsn_records_one_view_with_the_hash_and_what_it_found(
    world: World, command: tuple[str, ...], search: str, found: int
) -> None:
    result = shown(world, *command, "--bsn", "999 990 019", "--json")  # typed as read out
    assert len(json.loads(result.stdout)) == found
    [view] = views(world)
    assert (view.actor, view.target) == ("local:piet", search)
    assert view.details == {"view": search, "bsn_hash": BSN_HASH, "found": found, "source": None}
    assert_no_bsn_in_the_trail(world)


WHY = "huisarts belde: één vraag over de verwijzing"


@pytest.mark.parametrize(
    ("args", "action", "target"),
    [
        (("messages", "show", "{delivered}"), PATIENT_DATA_VIEW, "{delivered}"),
        (("events", "show", "{event}"), PATIENT_DATA_VIEW, "{event}"),
        (("deadletter", "show", "{dead}"), PATIENT_DATA_VIEW, "{dead}"),
        (("messages", "list", "--bsn", BSN), PATIENT_DATA_VIEW, "messages.search"),
        (("events", "list", "--bsn", BSN), PATIENT_DATA_VIEW, "events.search"),
        (("audit", "list", "--bsn", BSN), PATIENT_DATA_VIEW, "audit.search"),
        (("messages", "list", "--csv"), "messages.export", "messages.csv"),
        (("events", "list", "--csv"), "events.export", "events.csv"),
        (("audit", "list", "--csv"), "audit.export", "audit.csv"),
    ],
)
def test_reason_is_the_why_of_the_view_or_export_a_command_records(
    world: World, args: tuple[str, ...], action: str, target: str
) -> None:
    """docs/product.md §8: the audit log says why for every view and export; on the CLI,
    ``--reason``."""
    ids = {"delivered": world.delivered, "event": world.event_id, "dead": world.dead}
    typed = [a.format(**ids) for a in args]
    shown(world, *typed, "--reason", WHY)
    [entry] = [e for e in trail(world) if e.action == action]
    assert (entry.actor, entry.target, entry.reason) == ("local:piet", target.format(**ids), WHY)
    shown(world, *typed)  # none given: none recorded, whatever the command before said
    assert [e.reason for e in trail(world) if e.action == action] == [None, WHY]


def test_a_reason_that_breaks_a_reasons_rules_ends_the_command_before_anything_is_read(
    world: World,
) -> None:
    for reason, rule in ((f"patient {BSN}", "looks like a BSN"), ("x" * 1001, "1000 characters")):
        result = cli(world, "messages", "show", world.delivered, "--reason", reason)
        assert result.exit_code == 2, result.output
        assert "--reason: " in result.stderr and rule in result.stderr, result.stderr
        assert BSN not in result.output and PATIENT not in result.output
        as_json = cli(world, "events", "list", "--bsn", BSN, "--json", "--reason", reason)
        assert as_json.exit_code == 2, as_json.output
        assert json_error(as_json.stdout, 2)["fields"] == ["--reason"], as_json.stdout
    assert views(world) == []


def test_where_a_reason_is_required_a_view_without_one_is_refused_before_it_is_shown(
    world: World,
) -> None:
    required = World(
        {**world.env, "INTEGRATOR_REASON_REQUIRED": "true"},
        world.event_id,
        world.delivered,
        world.dead,
    )
    for args in (
        ("messages", "show", world.delivered),
        ("events", "show", world.event_id),
        ("deadletter", "show", world.dead),
        ("messages", "list", "--bsn", BSN),
        ("events", "list", "--csv"),
        ("audit", "list", "--csv"),
    ):
        result = cli(required, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "--reason: required: say why" in result.stderr, result.stderr
        assert BSN not in result.output and PATIENT not in result.output
        assert "ZD100000001" not in result.stdout  # not a row of the CSV either
    blank = cli(required, "messages", "show", world.delivered, "--reason", "   ")
    assert blank.exit_code == 2 and "--reason: required" in blank.stderr, blank.output
    assert [e for e in trail(world) if e.reason is None and "export" in e.action] == []
    assert views(world) == []
    # What shows no patient data needs none; a reason given is recorded.
    shown(required, "messages", "list")
    shown(required, "messages", "show", world.delivered, "--reason", WHY)
    assert [(v.target, v.reason) for v in views(world)] == [(world.delivered, WHY)]


def add_events_of_the_patient(world: World, count: int) -> None:
    async def fill() -> None:
        async with await Store.open(world.env["INTEGRATOR_DATABASE_URL"]) as store:
            for _ in range(count):
                await store.accept_event(make_event(bsn_hash=BSN_HASH), [make_message()])

    asyncio.run(fill())


def test_a_search_cut_by_its_limit_records_what_it_showed(world: World) -> None:
    """Found by a review: ``events list --bsn … --limit 3`` showed 3 events and recorded
    ``"found": 4``, the row read beyond the limit to tell that more match counted as shown."""
    add_events_of_the_patient(world, 3)  # 4 events of the patient, 5 messages
    for command, search in (
        (("messages", "list"), "messages.search"),
        (("events", "list"), "events.search"),
        (("audit", "list"), "audit.search"),  # the two views just recorded
    ):
        result = shown(world, *command, "--bsn", BSN, "--limit", "1", "--json")
        assert len(json.loads(result.stdout)) == 1
        assert "1 of " in result.stderr, result.stderr  # cut: more match
        view = next(v for v in views(world) if v.target == search)  # the newest
        assert view.details["found"] == 1, (search, view.details)


def test_listings_without_patient_data_record_nothing_and_a_bsn_search_does(
    world: World,
) -> None:
    for args in (
        ("messages", "list"),
        ("messages", "list", "--json"),
        ("messages", "list", "--zd", "ZD100000001", "--json"),
        ("events", "list", "--json"),
        ("events", "list", "--zd", "ZD100000001"),
        ("deadletter", "list", "--json"),
        ("audit", "list", "--json"),
        # A CSV export by BSN is recorded as the export (with the hash), as the console's is.
        ("messages", "list", "--bsn", BSN, "--csv"),
    ):
        shown(world, *args)
    dry = cli(world, "resend", world.delivered, "--reason", "GP called", "--dry-run", "--json")
    assert dry.exit_code == 1, dry.output  # no destination file here: it would be skipped
    assert views(world) == []

    shown(world, "messages", "list", "--bsn", BSN, "--zd", "ZD100000001")
    assert [(v.actor, v.target) for v in views(world)] == [("local:piet", "messages.search")]


def test_a_refused_read_records_nothing(world: World) -> None:
    for args in (
        ("messages", "list", "--bsn", "123456789"),  # fails the eleven-test
        ("messages", "show", "00000000"),
        ("events", "show", "00000000"),
        ("deadletter", "show", world.delivered),  # not a dead letter
    ):
        assert cli(world, *args).exit_code == 2, args
    assert views(world) == []
    # The same commands read, and record, what they may show.
    shown(world, "deadletter", "show", world.dead)
    assert [v.target for v in views(world)] == [world.dead]


def refuse_views(world: World) -> None:
    """Make the store refuse to write a view of patient data (and only that)."""

    async def go() -> None:
        engine = create_engine(resolve(world.env["INTEGRATOR_DATABASE_URL"]))
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "CREATE TRIGGER refuse_views BEFORE INSERT ON audit_log "
                        f"WHEN NEW.action = '{PATIENT_DATA_VIEW}' "
                        "BEGIN SELECT RAISE(ABORT, 'no views'); END"
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(go())


@pytest.mark.parametrize(
    "command",
    [
        ("messages", "show", "{delivered}"),
        ("messages", "show", "{delivered}", "--json"),
        ("events", "show", "{event}"),
        ("deadletter", "show", "{dead}"),
        ("messages", "list", "--bsn", BSN),
        ("events", "list", "--bsn", BSN, "--json"),
        ("audit", "list", "--bsn", BSN),
    ],
)
def test_a_view_that_cannot_be_recorded_is_not_shown(
    world: World, command: tuple[str, ...]
) -> None:
    refuse_views(world)
    args = [
        a.format(delivered=world.delivered, event=world.event_id, dead=world.dead) for a in command
    ]
    result = cli(world, *args)
    assert result.exit_code == 1, result.output
    if "--json" in args:  # nothing shown: the error, as JSON, is all of stdout
        assert NOT_SHOWN in json_error(result.stdout, 1)["message"]
    else:
        assert result.stdout == ""
    assert "write the audit log failed" in result.stderr and NOT_SHOWN in result.stderr
    assert BSN not in result.stderr and PATIENT not in result.stderr
    assert views(world) == []
