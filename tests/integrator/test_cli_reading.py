"""Reading the store from the CLI as support staff do: copy a time or a short id from a listing
and paste it back; a listing that fits 80 columns; read commands that never create a store."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Mapping
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import text
from typer.testing import CliRunner, Result

from integrator.cli import app
from integrator.cli import messages as messages_cli
from integrator.cli.views import messages_table, short_ids
from integrator.presenters import message_summary, shown_time
from integrator.settings import Settings
from integrator.store import AttemptRecord, EventRecord, MessageRecord, NewMessage, Store
from integrator.store.records import RejectedKeys
from tests.cli_in_process import json_error, run_cli
from tests.store.factories import T0, StepClock, make_event, make_message

SEARCH_KEY = "reading-tests-search-key"
BSN = "999990019"
AMSTERDAM = Settings(timezone="Europe/Amsterdam").zone
SHOWN_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


def env_for(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "INTEGRATOR_DATABASE_URL": url,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_TIMEZONE": "Europe/Amsterdam",
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
    }


def stored(
    tmp_path: Path, batch: list[tuple[EventRecord, list[NewMessage]]], step: timedelta
) -> dict[str, str]:
    """A store holding ``batch``, one event per clock step; the environment to read it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> None:
        async with await Store.open(url, clock=StepClock(step=step)) as store:
            for event, messages in batch:
                await store.accept_event(event, messages)

    asyncio.run(fill())
    return env_for(url, tmp_path)


def cli(env: Mapping[str, str | None], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, input=input)


def listed_ids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [row["id"] for row in json.loads(result.stdout)]


def three_seconds_apart(tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    """Three messages created a second apart; the middle one has had a delivery attempt."""
    messages = [make_message() for _ in range(3)]
    env = stored(tmp_path, [(make_event(), [m]) for m in messages], timedelta(seconds=1))

    async def attempt() -> None:
        later = StepClock(now=T0 + timedelta(seconds=5))
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"], clock=later) as store:
            tried = AttemptRecord(messages[1].id, 1, T0, 12.5, "retry", ack_code="AE")
            await store.record_attempt(tried, status="retrying")

    asyncio.run(attempt())
    return env, [m.id for m in messages]


def test_a_time_copied_from_the_listing_selects_from_and_until_that_message(
    tmp_path: Path,
) -> None:
    env, (earlier, middle, later) = three_seconds_apart(tmp_path)
    listing = cli(env, "messages", "list")
    assert listing.exit_code == 0, listing.output
    [row] = [line for line in listing.stdout.splitlines() if line.startswith(middle[:8])]
    [shown] = SHOWN_TIME.findall(row)
    assert shown == "2026-11-20T09:15:02+01:00"  # created 08:15:02.123456 UTC, shown locally

    since = cli(env, "messages", "list", "--since", shown, "--json")
    assert listed_ids(since) == [later, middle]  # the one a second earlier is left out
    until = cli(env, "messages", "list", "--until", shown, "--json")
    assert listed_ids(until) == [middle, earlier]  # that whole second is included

    [as_json] = [r for r in json.loads(since.stdout) if r["id"] == middle]
    assert as_json["created_at"] == "2026-11-20T09:15:02.123456+01:00"
    from_json = cli(env, "messages", "list", "--since", as_json["created_at"], "--json")
    assert listed_ids(from_json) == [later, middle]


def test_every_time_messages_show_shows_is_local_with_its_offset(tmp_path: Path) -> None:
    env, (_, middle, _) = three_seconds_apart(tmp_path)
    detail = cli(env, "messages", "show", middle)
    assert detail.exit_code == 0, detail.output
    times = re.findall(r"\d{4}-\d{2}-\d{2}T[\d:.+-]+", detail.stdout)
    # the event's received_at and the attempt's start, created, updated (by the attempt)
    assert sorted(times) == [
        "2026-11-20T09:15:00+01:00",
        "2026-11-20T09:15:00+01:00",
        "2026-11-20T09:15:02+01:00",
        "2026-11-20T09:15:05+01:00",
    ]


def test_messages_show_reads_a_value_with_escapes_as_text(tmp_path: Path) -> None:
    """A letter's two lines are one OBX-5 with a \\.br\\ on the wire; support reads them out
    to a GP as written. The wire's form stays beside it; a plain value is shown once."""
    hl7 = make_message().payload + b"OBX|1|FT|HIS^Voorgeschiedenis||Sinds 2019.\\.br\\Rookt.\r"
    message = make_message(payload=hl7)
    env = stored(tmp_path, [(make_event(), [message])], timedelta(seconds=1))
    shown = cli({**env, "COLUMNS": "120"}, "messages", "show", message.id)
    assert shown.exit_code == 0, shown.output
    [row] = [line for line in shown.stdout.splitlines() if "OBX-5" in line]
    assert "Sinds 2019.\\.br\\Rookt." in row
    after = shown.stdout.split(row + "\n", 1)[1].splitlines()
    assert after[0].split("│")[2].strip() == "reads: Sinds 2019."
    assert after[1].split("│")[2].strip() == "Rookt."
    assert shown.stdout.count("reads:") == 1  # MSH-2's ^~\\& is the delimiters, not text


def test_messages_show_says_when_a_held_message_was_released_and_never_for_another(
    tmp_path: Path,
) -> None:
    """Its max_age counts from its release: support reading a dead letter's age needs it."""
    held = make_message(status="held", payload=b"", version="ref-v1")
    never = make_message()
    env = stored(tmp_path, [(make_event(), [held, never])], timedelta(seconds=1))

    async def release() -> None:
        later = StepClock(now=T0 + timedelta(hours=2))  # reads 10:15:00.124456 UTC
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"], clock=later) as store:
            payload = make_message().payload
            assert await store.release_held(
                held.id, version="ref-v2", message_type="REF^I12^REF_I12", payload=payload
            )

    asyncio.run(release())
    as_json = run_cli("messages", "show", held.id, "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["released_at"] == "2026-11-20T11:15:00.124456+01:00"
    text = run_cli("messages", "show", held.id, env=env)
    assert text.returncode == 0, text.stderr
    assert re.findall(r"released_at\s*│\s*(\S+)", text.stdout) == ["2026-11-20T11:15:00+01:00"]

    not_held = run_cli("messages", "show", never.id, "--json", env=env)
    assert not_held.returncode == 0 and json.loads(not_held.stdout)["released_at"] is None
    text = run_cli("messages", "show", never.id, env=env)
    assert re.findall(r"released_at\s*│\s*(\S+)", text.stdout) == ["-"]


def test_bounds_beyond_the_calendar_exit_2_naming_the_option(tmp_path: Path) -> None:
    env, _ = three_seconds_apart(tmp_path)
    for option, value in (("--since", "0001-01-01"), ("--until", "9999-12-31")):
        refused = cli(env, "messages", "list", option, value)
        assert refused.exit_code == 2, refused.output
        assert f"{option[2:]}: give a year from 1900 to 9998" in refused.stderr


def realistic_rows(tmp_path: Path) -> list[dict[str, Any]]:
    """Delivered, retrying, cancelled and resent messages, one destination with a long name."""
    messages = [
        make_message(destination_id="ziekenhuis-noord", status=status)
        for status in ("delivered", "retrying", "cancelled", "queued")
    ]
    messages.append(make_message(destination_id="lab-west", resend_of=messages[0].id))
    env = stored(tmp_path, [(make_event(), messages)], timedelta(seconds=1))

    async def read() -> list[MessageRecord]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await store.list_messages()

    return [message_summary(m, AMSTERDAM) for m in asyncio.run(read())]


def render(rows: list[dict[str, Any]], width: int) -> str:
    out = Console(width=width, file=StringIO(), highlight=False, color_system=None)
    table = messages_table(rows, width=width, zone=AMSTERDAM, title="Messages")
    out.print(table)
    text: str = out.file.getvalue()  # type: ignore[attr-defined]
    return text


def test_the_listing_fits_80_columns_with_every_cell_whole(tmp_path: Path) -> None:
    rows = realistic_rows(tmp_path)
    text = render(rows, 80)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for r in rows:
        [line] = [line for line in text.splitlines() if line.startswith(r["id"][:8])]
        created = shown_time(r["created_at"], AMSTERDAM)
        for whole in (r["zd_number"], r["destination"], r["status"], created):
            assert f" {whole} " in f" {line} "
    # Wider: the version, MSH-10 and the (short) id of the resent message come along.
    wide = render(rows, 160)
    assert "MSH-10" in wide and rows[0]["control_id"] in wide
    assert "resend of" in wide and rows[0]["resend_of"][:8] in wide


def test_a_wide_listing_says_why_a_message_is_retrying_in_the_listings_words(
    tmp_path: Path,
) -> None:
    """An operator listing ``--status retrying`` opened each message to learn why; the last
    error comes along where the width allows, the receiver's own text withheld."""
    message = make_message(status="retrying")
    env = stored(tmp_path, [(make_event(), [message])], timedelta(seconds=1))

    async def read() -> list[MessageRecord]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            await store.set_status(message.id, "retrying", last_error="ACK AE: Jansen unknown")
            return await store.list_messages()

    rows = [message_summary(m, AMSTERDAM) for m in asyncio.run(read())]
    wide = render(rows, 200)
    assert "last error" in wide and "Jansen" not in wide
    [line] = [line for line in wide.splitlines() if line.startswith(message.id[:8])]
    assert line.rstrip().endswith("ACK AE (receiver's text withheld)")
    assert "last error" not in render(rows, 80)  # the identifiers first


def test_messages_list_on_an_80_column_terminal_cuts_no_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, ids = three_seconds_apart(tmp_path)
    monkeypatch.setattr(messages_cli, "console", Console(width=80, highlight=False))
    listing = cli(env, "messages", "list")
    assert listing.exit_code == 0, listing.output
    assert "…" not in listing.stdout
    assert all(any(line.startswith(i[:8]) for line in listing.stdout.splitlines()) for i in ids)


def test_short_ids_grow_until_they_differ_and_never_end_in_a_dash() -> None:
    ids = ["3f2a9c1e-4b7d-4e21", "3f2a9c1e-4b8d-4e21", "0badcafe-0000-4000"]
    assert short_ids(ids) == {
        "3f2a9c1e-4b7d-4e21": "3f2a9c1e-4b7",
        "3f2a9c1e-4b8d-4e21": "3f2a9c1e-4b8",
        "0badcafe-0000-4000": "0badcafe-000",
    }
    assert short_ids(["3f2a9c1e-4b7d", "3f2a9c1f-4b7d"]) == {
        "3f2a9c1e-4b7d": "3f2a9c1e",
        "3f2a9c1f-4b7d": "3f2a9c1f",
    }
    assert short_ids(["3f2a9c1e-1", "3f2a9c1e-2"])["3f2a9c1e-1"] == "3f2a9c1e-1"


def test_show_takes_a_unique_prefix_and_lists_the_candidates_of_an_ambiguous_one(
    tmp_path: Path,
) -> None:
    ids = ["abcd1111-0000-4000-8000-000000000000", "abcd2222-0000-4000-8000-000000000000"]
    batch = [(make_event(), [make_message(id=i) for i in ids])]
    env = stored(tmp_path, batch, timedelta(seconds=1))

    listing = cli(env, "messages", "list")
    assert "abcd1111 " in listing.stdout and ids[0] not in listing.stdout
    assert set(listed_ids(cli(env, "messages", "list", "--json"))) == set(ids)  # full ids

    for prefix in ("abcd1111", "ABCD1", "abcd1111-0000"):
        shown = cli(env, "messages", "show", prefix, "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["id"] == ids[0]
    ambiguous = cli(env, "messages", "show", "abcd")
    assert ambiguous.exit_code == 2
    assert "ambiguous" in ambiguous.stderr
    assert ids[0] in ambiguous.stderr and ids[1] in ambiguous.stderr
    unknown = cli(env, "messages", "show", "abce")
    assert unknown.exit_code == 2
    assert "no message with id starting with abce" in unknown.stderr
    short = cli(env, "messages", "show", "abc")
    assert short.exit_code == 2 and "at least 4 characters" in short.stderr


def test_zd_in_lower_case_and_bsn_with_spaces_or_dots_find_the_message(tmp_path: Path) -> None:
    settings = Settings(search_key=SEARCH_KEY)
    message = make_message()
    event = make_event(zd_number="ZD100000001", bsn_hash=settings.bsn_hash(BSN))
    env = stored(tmp_path, [(event, [message])], timedelta(seconds=1))
    for option, value in (
        ("--zd", "zd100000001"),
        ("--bsn", "999 990 019"),
        ("--bsn", "999.990.019"),
    ):
        assert listed_ids(cli(env, "messages", "list", option, value, "--json")) == [message.id]
    refused = cli(env, "messages", "list", "--bsn", "999 990 018")
    assert refused.exit_code == 2
    assert "bsn: a BSN is 9 digits" in refused.stderr and "990" not in refused.output


def test_a_malformed_zd_number_is_refused_not_an_empty_listing(tmp_path: Path) -> None:
    message = make_message()
    env = stored(tmp_path, [(make_event(zd_number="ZD100000001"), [message])], timedelta(seconds=1))
    for command in (("messages", "list"), ("events", "list")):
        refused = cli(env, *command, "--zd", "ZD12")
        assert refused.exit_code == 2, (command, refused.output)
        assert "--zd: a ZD number is ZD and 9 digits" in refused.stderr, refused.stderr
        assert "ZD12" not in refused.output and refused.stdout == ""


@pytest.mark.parametrize(
    "command",
    [
        ("messages", "list"),
        ("messages", "list", "--json"),
        ("messages", "show", "abcd1234"),
        ("versions",),
        ("versions", "--usage", "--json"),
        ("audit", "summary"),
        ("audit", "summary", "--json"),
    ],
)
def test_a_read_command_never_creates_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    unset: dict[str, str | None] = {**env_for("", tmp_path), "INTEGRATOR_DATABASE_URL": None}
    result = CliRunner().invoke(app, list(command), env=unset)
    assert result.exit_code == 1, result.output
    if "--json" in command:  # the same error, as JSON (``integrator.cli.json_errors``)
        assert json_error(result.stdout, 1)["message"] in result.stderr
    else:
        assert result.stdout == ""
    assert result.stderr == (
        f"error: no store at sqlite:///{tmp_path}/var/integrator.db; run this from the "
        "engine's directory or set INTEGRATOR_DATABASE_URL to the engine's store (a new store "
        "is made by the engine's first start: integrator run)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_listing_names_the_store_it_read_on_stderr_only(tmp_path: Path) -> None:
    env, _ = three_seconds_apart(tmp_path)
    for args in (("messages", "list", "--json"), ("versions", "--json")):
        result = cli(env, *args)
        assert result.exit_code == 0, result.output
        json.loads(result.stdout)
        assert result.stderr == f"store: sqlite:///{tmp_path}/store.db\n"
    table = cli(env, "messages", "list")
    assert f"store: sqlite:///{tmp_path}/store.db" in table.stderr
    assert "store:" not in table.stdout


def dead_letters(tmp_path: Path, ids: list[str]) -> dict[str, str]:
    """A store holding one dead message per id (the destination gave up on them)."""
    env = stored(tmp_path, [(make_event(), [make_message(id=i) for i in ids])], timedelta(0))

    async def kill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for message_id in ids:
                await store.set_status(message_id, "dead", last_error="AR from the receiver")

    asyncio.run(kill())
    return env


def test_dead_letter_and_resend_commands_take_a_unique_prefix(tmp_path: Path) -> None:
    ids = ["abcd1111-0000-4000-8000-000000000000", "abcd2222-0000-4000-8000-000000000000"]
    env = dead_letters(tmp_path, ids)

    listing = cli(env, "deadletter", "list")
    assert listing.exit_code == 0, listing.output
    assert "abcd1111 " in listing.stdout and ids[0] not in listing.stdout
    shown = cli(env, "deadletter", "show", "ABCD1111", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["id"] == ids[0]
    assert json.loads(shown.stdout)["dead_since"].endswith("+01:00")  # local, with its offset
    # The prefix selects that one message; no destination file here, so it would be skipped.
    dry = cli(env, "resend", "abcd2222", "--reason", "GP called", "--dry-run", "--json")
    assert dry.exit_code == 1, dry.output
    assert ids[1] in dry.stdout and ids[0] not in dry.stdout and "not configured" in dry.stdout
    for args in (
        ("deadletter", "discard", "abcd", "--reason", "fax"),
        ("deadletter", "resend", "abcd", "--reason", "GP called"),
        ("resend", "abcd", "--reason", "GP called"),
    ):
        ambiguous = cli(env, *args)
        assert ambiguous.exit_code == 2, args
        assert ids[0] in ambiguous.stderr and ids[1] in ambiguous.stderr
    discarded = cli(env, "deadletter", "discard", "abcd2222", "--reason", "sent by fax")
    assert discarded.exit_code == 0, discarded.output
    assert ids[1] in discarded.stdout


def test_deadletter_show_shows_a_discarded_letter_as_the_listing_does(tmp_path: Path) -> None:
    """``list --all`` lists a discarded letter; ``show`` refused it (``message … is cancelled,
    not dead``, exit 2). It shows it now, saying who discarded it, when and why."""
    ids = ["abcd1111-0000-4000-8000-000000000000", "abcd2222-0000-4000-8000-000000000000"]
    env = {**dead_letters(tmp_path, ids), "USER": "piet"}
    discarded = run_cli("deadletter", "discard", "abcd1111", "--reason", "sent by fax", env=env)
    assert discarded.returncode == 0, discarded.stderr
    [listed] = [
        row
        for row in json.loads(run_cli("deadletter", "list", "--all", "--json", env=env).stdout)
        if row["id"] == ids[0]
    ]

    shown = run_cli("deadletter", "show", "abcd1111", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["id"] == ids[0] and detail["state"] == "discarded"
    assert (detail["discarded_by"], detail["discarded_at"]) == (
        "local:piet",
        listed["discarded_at"],
    )
    assert detail["discarded_at"].endswith("+01:00")  # local, with its offset, as listed
    assert detail["discard_reason"] == "sent by fax"
    assert detail["reason"] == "AR from the receiver"  # why it died, as before
    assert (detail["resend_chain"], detail["stays_open"]) == ([], [])  # nothing left to close

    human = run_cli("deadletter", "show", ids[0], env=env)
    assert human.returncode == 0, human.stderr
    said = " ".join(human.stdout.split())
    at = shown_time(listed["discarded_at"], AMSTERDAM)
    assert f"state │ discarded by local:piet at {at}" in said
    assert "discard reason │ sent by fax" in said

    # The letter still open shows as before (a message that never died is refused as before:
    # tests/delivery/test_deadletter.py).
    still_open = run_cli("deadletter", "show", ids[1], "--json", env=env)
    assert json.loads(still_open.stdout)["state"] == "open"


def test_filters_take_the_short_ids_listings_show(tmp_path: Path) -> None:
    """`messages list --event-id` and `audit list --message` took whole ids only, so a short id
    pasted from a listing silently found nothing."""
    events = ["beef1111-0000-4000-8000-000000000000", "beef2222-0000-4000-8000-000000000000"]
    messages = ["abcd1111-0000-4000-8000-000000000000", "abcd2222-0000-4000-8000-000000000000"]
    batch = [
        (make_event(id=e), [make_message(id=m)]) for e, m in zip(events, messages, strict=True)
    ]
    env = stored(tmp_path, batch, timedelta(seconds=1))

    for given in ("beef2222", "BEEF2222-0000", events[1]):
        assert listed_ids(cli(env, "messages", "list", "--event-id", given, "--json")) == [
            messages[1]
        ]
    exported = cli(env, "messages", "list", "--event-id", "beef1111", "--csv")
    assert exported.exit_code == 0, exported.output
    assert messages[0] in exported.stdout and messages[1] not in exported.stdout
    ambiguous = cli(env, "messages", "list", "--event-id", "beef")
    assert ambiguous.exit_code == 2 and events[0] in ambiguous.stderr

    async def kill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            await store.set_status(messages[1], "dead", last_error="AR from the receiver")

    asyncio.run(kill())
    discarded = cli(env, "deadletter", "discard", "abcd2222", "--reason", "sent by fax")
    assert discarded.exit_code == 0, discarded.output
    for given in ("abcd2222", messages[1]):
        found = cli(env, "audit", "list", "--message", given, "--json")
        assert found.exit_code == 0, found.output
        assert [e["action"] for e in json.loads(found.stdout)] == ["deadletter.discard"]
    unknown = cli(env, "audit", "list", "--message", "abce")
    assert unknown.exit_code == 2 and "no message with id starting with abce" in unknown.stderr


@pytest.mark.parametrize(
    ("option", "given", "rule"),
    [
        ("--event-id", BSN, "(9 digits, not repeated here: if they are a patient's BSN, search"),
        ("--event-id", "0612345678", "(digits only, not repeated here: a date of birth or a "),
        ("--event-id", "Jansen", "(not an id, not repeated here: ids are hex digits and dashes)"),
        ("--event-id", "be", "an event id needs at least 4 characters to be looked up by its"),
        ("--event-id", "beef", "event id beef is ambiguous: 2 events have an id starting so ("),
        ("--event-id", "12345", "no event with id starting with 12345"),
        ("--message", "19610412", "(digits only, not repeated here: a date of birth or a phone"),
    ],
)
def test_an_id_filter_that_finds_no_one_id_is_refused_naming_its_option(
    tmp_path: Path, option: str, given: str, rule: str
) -> None:
    """``messages list --event-id 999990019`` said ``error: no event with id starting with (9
    digits, …)``, naming no option: with several given, which one? The option comes first now,
    as in every refusal of an option; a value of 6 digits or more is still not repeated (a
    BSN, a date of birth, a phone number), up to 5 it is."""
    events = ["beef1111-0000-4000-8000-000000000000", "beef2222-0000-4000-8000-000000000000"]
    env = stored(tmp_path, [(make_event(id=e), [make_message()]) for e in events], timedelta(0))
    command = ("messages", "list") if option == "--event-id" else ("audit", "list")
    refused = cli(env, *command, option, given, "--limit", "5")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert f"error: {option}: " in said and said.count("error:") == 1, said
    assert rule in said, said
    if len(given) > 5:
        assert given not in said


@pytest.mark.parametrize("command", [("deadletter", "list"), ("deadletter", "show", "abcd1234")])
def test_dead_letter_reads_never_create_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    unset: dict[str, str | None] = {**env_for("", tmp_path), "INTEGRATOR_DATABASE_URL": None}
    result = CliRunner().invoke(app, list(command), env=unset)
    assert result.exit_code == 1, result.output
    assert "error: no store at sqlite:///" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_events_list_shows_local_times_with_their_offset(tmp_path: Path) -> None:
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    listing = cli(env, "events", "list")
    assert listing.exit_code == 0, listing.output
    [received] = SHOWN_TIME.findall(listing.stdout)
    assert received.endswith("+01:00")  # November in Amsterdam


def test_one_person_is_one_actor_in_every_change_the_cli_records(tmp_path: Path) -> None:
    # Without $USER, dead-letter commands said "unknown" and destination changes "root".
    ids = ["abcd1111-0000-4000-8000-000000000000"]
    env: dict[str, str | None] = {**dead_letters(tmp_path, ids), "USER": None}
    text = (Path(__file__).resolve().parents[2] / "config/destinations/lab-west.yaml").read_text()
    assert cli(env, "destinations", "add", "-", input=text).exit_code == 0
    assert cli(env, "destinations", "pause", "lab-west", "--reason", "maintenance").exit_code == 0
    assert cli(env, "deadletter", "discard", "abcd1111", "--reason", "sent by fax").exit_code == 0

    async def actors() -> set[str]:
        async with await Store.open(str(env["INTEGRATOR_DATABASE_URL"])) as store:
            return {entry.actor for entry in await store.list_audit()}

    [actor] = asyncio.run(actors())
    assert actor.startswith("local:") and actor != "local:unknown"


def test_events_show_takes_a_unique_prefix(tmp_path: Path) -> None:
    event = make_event(id="abcd1111-0000-4000-8000-000000000000")
    env = stored(tmp_path, [(event, [make_message()])], timedelta(seconds=1))
    shown = cli(env, "events", "show", "abcd1111", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["id"] == event.id
    unknown = cli(env, "events", "show", "abce")
    assert unknown.exit_code == 2 and "no event with id starting with abce" in unknown.stderr


def test_messages_show_shows_text_whole_and_cuts_only_attachments_unless_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Support reads a clinical question in full; a base64 attachment would flood the screen."""
    question = "Graag beoordeling van " + "langdurige klachten, " * 20  # ~440 characters
    attachment = "JVBERi0xLjQK" * 500  # 6,000 characters of base64
    payload = (
        b"MSH|^~\\&|INTEGRATOR||HIS|ZNOORD|20261120091500+0100||REF^I12^REF_I12|x|P|2.5.1\r"
        + f"OBX|1|TX|Q1||{question}\r".encode()
        + f"OBX|2|ED|PDF||^AP^PDF^Base64^{attachment}\r".encode()
    )
    message = make_message(payload=payload)
    env = stored(tmp_path, [(make_event(), [message])], timedelta(seconds=1))
    # One table row per line, however long the value: the test reads values whole.
    monkeypatch.setattr(messages_cli, "console", Console(width=20_000, highlight=False))

    shown = cli(env, "messages", "show", message.id)
    assert shown.exit_code == 0, shown.output
    assert question.strip() in shown.stdout
    assert attachment not in shown.stdout
    cut = len(f"^AP^PDF^Base64^{attachment}") - messages_cli.SHOWN_VALUE_MAX
    assert f"…(+{cut:,} characters)" in shown.stdout

    whole = cli(env, "messages", "show", message.id, "--full")
    assert whole.exit_code == 0, whole.output
    assert attachment in whole.stdout


@pytest.mark.real_login_name
def test_the_audit_names_the_login_not_whom_user_names(tmp_path: Path) -> None:
    """``USER=colleague integrator messages show …`` must not put a colleague's name in the
    audit trail for a look at a patient: the name comes from the process's user id."""
    import os
    import pwd

    env, (_, middle, _) = three_seconds_apart(tmp_path)
    shown = cli({**env, "USER": "colleague", "LOGNAME": "colleague"}, "messages", "show", middle)
    assert shown.exit_code == 0, shown.output
    audit = cli(env, "audit", "list", "--action", "patient_data.view", "--json")
    assert audit.exit_code == 0, audit.output
    [entry] = json.loads(audit.stdout)
    assert entry["actor"] == f"local:{pwd.getpwuid(os.getuid()).pw_name}"


@pytest.mark.parametrize(
    "command",
    [
        ("messages", "show", "deadbeef"),
        ("resend", "deadbeef", "--reason", "GP called"),
        ("deadletter", "resend", "deadbeef", "--reason", "GP called"),
    ],
    ids=" ".join,
)
def test_an_id_that_names_nothing_is_bad_input_as_the_readme_and_help_say(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """README's rule: 2 is refused input, 1 anything else. An id that names no message is
    refused input (as an unknown ``--destination`` is), not "nothing matched" (1, a filter
    that found nothing): the code, the README and the command's ``--help`` say the same."""
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    refused = cli(env, *command)
    assert refused.exit_code == 2, refused.output
    assert refused.stdout == ""
    assert "no message with id starting with deadbeef" in refused.stderr

    path = [word for word in command if word in ("messages", "show", "resend", "deadletter")]
    shown = cli({"COLUMNS": "200"}, *path, "--help")
    said = " ".join(shown.stdout.split())
    assert "2 bad input" in said or "; 2 an id" in said, said
    assert "an id that names no message (or several)" in said, said
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    assert (
        "An id that names nothing (`messages show deadbeef`, `resend deadbeef`) is bad "
        "input: exit 2, naming it." in readme
    )


def test_a_csv_cut_by_its_limit_says_so_on_stderr(tmp_path: Path) -> None:
    """The table and --json said '50 shown, more match'; --csv said nothing, and a file of
    50 rows out of 6,020 looked complete."""
    env, messages = three_seconds_apart(tmp_path)
    cut = cli(env, "messages", "list", "--csv", "--limit", "2")
    assert cut.exit_code == 0, cut.output
    assert len(cut.stdout.strip().splitlines()) == 1 + 2  # the header and two rows
    assert "2 of 3 shown; --limit to see more" in " ".join(cut.stderr.split())
    whole = cli(env, "messages", "list", "--csv")
    assert "shown" not in whole.stderr and all(m in whole.stdout for m in messages)


def test_an_events_or_audit_csv_cut_by_its_limit_says_so_on_stderr(tmp_path: Path) -> None:
    """``events list --csv`` and ``audit list --csv`` returned before saying what the table
    says: a file of 2 rows out of 3 looked complete."""
    env, _messages = three_seconds_apart(tmp_path)

    async def audited() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for reason in ("one", "two", "three"):
                await store.add_audit("local:root", "event.route", "noord", reason=reason)

    asyncio.run(audited())
    events = cli(env, "events", "list", "--csv", "--limit", "2")
    assert events.exit_code == 0, events.output
    assert len(events.stdout.strip().splitlines()) == 1 + 2
    assert "2 of 3 shown; --limit to see more" in " ".join(events.stderr.split())
    audit = cli(env, "audit", "list", "--csv", "--limit", "2", "--action", "event.route")
    assert audit.exit_code == 0, audit.output
    # Said as the table says it ("N of M"), not "2 shown, more match".
    assert "2 of 3 shown; --limit to see more" in " ".join(audit.stderr.split())
    assert len(audit.stdout.strip().splitlines()) == 1 + 2
    whole = cli(env, "events", "list", "--csv")
    assert "shown" not in whole.stderr


@pytest.mark.postgres
def test_a_missing_postgresql_database_says_to_create_it(tmp_path: Path) -> None:
    """The engine makes its tables, not a PostgreSQL database: a command pointed at one that is
    not there says to create it (``createdb``), not that the engine's first start makes it."""
    from sqlalchemy.engine import make_url

    from tests.services import require_postgres

    missing = make_url(require_postgres()).set(database=f"missing_{uuid.uuid4().hex[:8]}")
    url = missing.render_as_string(hide_password=False)
    result = cli(env_for(url, tmp_path), "messages", "list")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: no store at postgresql")
    assert ": the database does not exist; " in result.stderr
    assert "createdb -O <role> <database>" in result.stderr
    assert "first start" not in result.stderr


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_a_sqlite_url_that_names_no_file_is_a_setting_refused(url: str, tmp_path: Path) -> None:
    """SQLAlchemy makes these an in-memory database: a setting to fix (exit 2, as every
    refused setting), saying how to write a file's."""
    result = cli(env_for(url, tmp_path), "messages", "list")
    assert result.exit_code == 2, result.output
    assert "in-memory SQLite database cannot hold the store" in result.stderr
    assert "sqlite:///var/integrator.db" in result.stderr


@pytest.mark.parametrize(
    "url", ["sqlite://store.db", "sqlite://srv/integrator/integrator.db", "sqlite://h:1/s.db"]
)
def test_a_sqlite_url_a_slash_short_is_a_setting_refused(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slash short, the first part of the path is a host, which SQLAlchemy dropped: the
    engine made a store below the working directory and stopped in a traceback; a reading
    command looked there. Refused naming the variable and the rule, and nothing is made."""
    monkeypatch.chdir(tmp_path)
    for command in (["messages", "list"], ["run"]):
        result = cli(env_for(url, tmp_path), *command)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: bad settings: INTEGRATOR_DATABASE_URL: ")
        assert "names a file, never a host" in result.stderr
        assert "sqlite:////srv/integrator/integrator.db" in result.stderr
        assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_messages_show_on_80_columns_folds_values_instead_of_cutting_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value without spaces (base64, an e-mail address) was cut to the column with "…" on an
    80-column terminal: the "(+N characters)" that says how much was left out was cut off, and
    ``--full`` showed no more than the column either."""
    attachment = "JVBERi0xLjQK" * 500
    email = "j.vanderberg-" + "x" * 80 + "@example.org"
    payload = (
        b"MSH|^~\\&|INTEGRATOR||HIS|ZNOORD|20261120091500+0100||REF^I12^REF_I12|x|P|2.5.1\r"
        + f"PID|1||||||||||||^NET^Internet^{email}\r".encode()
        + f"OBX|2|ED|PDF||^AP^PDF^Base64^{attachment}\r".encode()
    )
    message = make_message(payload=payload)
    env = stored(tmp_path, [(make_event(), [message])], timedelta(seconds=1))
    monkeypatch.setattr(messages_cli, "console", Console(width=80, highlight=False))

    def cells(text: str) -> str:
        """The value column's text across its lines, without borders or spaces (a value
        folded at a space loses it)."""
        return "".join(line.split("│")[-2] for line in text.splitlines() if line.count("│") == 3)

    def whole(value: str) -> str:
        return value.replace(" ", "")

    shown = cli(env, "messages", "show", message.id)
    assert shown.exit_code == 0, shown.output
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    cut = len(f"^AP^PDF^Base64^{attachment}") - messages_cli.SHOWN_VALUE_MAX
    assert whole(f"…(+{cut:,} characters)") in whole(cells(shown.stdout))
    assert email in whole(cells(shown.stdout))

    # --full: a value too long for a cell below the table, unframed, whole on lines of its
    # own, so it can be copied (folded in the table, 5 MiB of base64 took seconds to lay out
    # and had a border on every line).
    full = cli(env, "messages", "show", message.id, "--full")
    assert full.exit_code == 0, full.output
    value = f"^AP^PDF^Base64^{attachment}"
    assert f"(whole below the table: {len(value):,} characters)" in " ".join(full.stdout.split())
    table, _, below = full.stdout.partition(f"OBX-5, whole ({len(value):,} characters):")
    assert attachment not in whole(cells(table))
    assert below.strip().splitlines()[0] == value  # one line, unbroken (the terminal wraps it)


def test_a_short_id_a_filtered_listing_shows_names_one_thing_in_the_store(
    tmp_path: Path,
) -> None:
    """Shortened to tell apart only the rows shown, the id of the one event a filter left was
    its first 8 characters, which upstream's time-ordered ids share with every event of the
    same minute: ``events show`` of it answered "ambiguous" (found by a support walkthrough).
    Now each is as long as the store needs; a listing of ids alike in no more stays at 8."""
    start = "0190f3a2-7c1e-7"  # as a UUIDv7 of one minute starts
    events = [
        make_event(id=f"{start}{n:03x}-8000-{n:012x}", zd_number=f"ZD70000000{n}")
        for n in range(1, 4)
    ]
    messages = [make_message(id=f"{start}{n:03x}-9000-{n:012x}") for n in range(1, 4)]
    env = stored(tmp_path, list(zip(events, [[m] for m in messages], strict=True)), timedelta(1))
    for listing, shows in (
        (("events", "list", "--zd", "ZD700000002"), ("events", "show")),
        (("messages", "list", "--zd", "ZD700000002"), ("messages", "show")),
    ):
        listed = cli(env, *listing)
        assert listed.exit_code == 0, listed.output
        [row] = [line for line in listed.stdout.splitlines() if line.startswith(start[:8])]
        short = row.split()[0]
        assert len(short) < 36 and short.startswith(start)
        shown = cli(env, *shows, short, "--json")
        assert shown.exit_code == 0, shown.output
    plain = stored(tmp_path / "plain", [(make_event(), [make_message()])], timedelta(1))
    listed = cli(plain, "events", "list")
    assert len(listed.stdout.splitlines()[-1].split()[0]) == 8


def test_dead_letters_and_rejected_input_are_shortened_to_name_one_in_the_store(
    tmp_path: Path,
) -> None:
    """``deadletter list`` and ``rejected list`` shortened their ids to tell apart only the
    rows they showed: the one dead letter among messages whose ids start alike, or the one
    rejected input a ``--zd`` left, was listed by 8 characters that ``deadletter show`` and
    ``rejected show`` then found ambiguous. Each is now as long as the store needs."""
    start = "0190f3a2-7c1e-7"
    messages = [make_message(id=f"{start}{n:03x}-9000-{n:012x}") for n in range(1, 4)]
    env = stored(tmp_path, [(make_event(), messages)], timedelta(0))
    url = env["INTEGRATOR_DATABASE_URL"]

    async def kill_one_and_reject_three() -> None:
        async with await Store.open(url) as store:
            await store.set_status(messages[1].id, "dead", last_error="AR from the receiver")
            for n in range(1, 4):
                kept = await store.reject_event(
                    b"{}",
                    "http",
                    [{"field": "type", "rule": "required"}],
                    RejectedKeys(zd_number=f"ZD70000000{n}"),
                )
                async with store._engine.begin() as conn:  # ids alike in their first 15
                    await conn.execute(
                        text("UPDATE rejected_events SET id = :new WHERE id = :old"),
                        {"new": f"{start}{n:03x}-a000-{n:012x}", "old": kept},
                    )

    asyncio.run(kill_one_and_reject_three())
    for listing, shows in (
        (("deadletter", "list"), ("deadletter", "show")),
        (("rejected", "list", "--zd", "ZD700000002"), ("rejected", "show")),
    ):
        listed = cli(env, *listing)
        assert listed.exit_code == 0, listed.output
        [row] = [line for line in listed.stdout.splitlines() if line.startswith(start[:8])]
        short = row.split()[0]
        assert len(short) < 36 and short.startswith(start), listing
        shown = cli(env, *shows, short, "--json")
        assert shown.exit_code == 0, (listing, shown.output)
