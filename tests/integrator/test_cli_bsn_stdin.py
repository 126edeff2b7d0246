"""``--bsn -``: every search by BSN on the command line takes the BSN from standard input.

A value typed as ``--bsn 999990019`` stays in the shell's history file and, while the command
runs, in the process list, readable by every user on the server. ``messages list``, ``events
list``, ``rejected list`` and ``audit list`` take ``--bsn -`` instead: the first line of a pipe,
or at a terminal a ``BSN:`` prompt that does not echo (``integrator.cli.bsn_input``). It finds
what the value finds and is recorded alike; the value form still works, with a warning on
stderr; nothing here ever prints the BSN.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from integrator.cli.bsn_input import NONE_READ, ON_COMMAND_LINE
from integrator.patient_views import PATIENT_DATA_VIEW
from integrator.settings import Settings
from integrator.store import AuditRecord, RejectedKeys, Store
from tests.cli_in_process import CliOutcome, json_error, run_cli
from tests.store.factories import make_event, make_message

ROOT = Path(__file__).resolve().parents[2]
SEARCH_KEY = "bsn-stdin-tests-search-key"
BSN = "999990019"
READ_OUT = "999 990 019"  # as a GP reads it out on the phone
BSN_HASH = Settings(search_key=SEARCH_KEY).bsn_hash(BSN)
WARNING = "stays in the shell's history"


@dataclass(frozen=True)
class World:
    env: dict[str, str]
    event_id: str


@pytest.fixture
def world(tmp_path: Path) -> World:
    """A store with one event of the patient (two messages), rejected input that named them,
    and a view of the event in the audit trail: each of the four searches finds something."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    event = make_event(bsn_hash=BSN_HASH, payload={"patient": {"bsn": BSN}})

    async def fill() -> None:
        async with await Store.open(url) as store:
            await store.accept_event(event, [make_message(), make_message()])
            await store.accept_event(make_event(bsn_hash="0" * 64), [make_message()])
            rules = [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}]
            await store.reject_event(b"{}", "http", rules, RejectedKeys(bsn_hash=BSN_HASH))
            await store.reject_event(b"{}", "http", rules, RejectedKeys(zd_number="ZD100000009"))

    asyncio.run(fill())
    env = {
        "INTEGRATOR_DATABASE_URL": url,
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "USER": "piet",
    }
    world = World(env, event.id)
    assert cli(world, "events", "show", event.id).returncode == 0  # a view the audit search finds
    return world


COMMANDS = [("messages", "list"), ("events", "list"), ("rejected", "list"), ("audit", "list")]
IDS = [" ".join(c) for c in COMMANDS]
WITH_CSV = [c for c in COMMANDS if c != ("rejected", "list")]


def cli(world: World, *args: str, input: str | None = None) -> CliOutcome:
    return run_cli(*args, env=world.env, input=input)


def trail(world: World) -> list[AuditRecord]:
    async def read() -> list[AuditRecord]:
        async with await Store.open(world.env["INTEGRATOR_DATABASE_URL"]) as store:
            return await store.list_audit(limit=1000)

    return asyncio.run(read())


def searches(world: World) -> list[AuditRecord]:
    """The searches by BSN recorded, newest first (the world's own view of the event left out)."""
    return [e for e in trail(world) if e.action == PATIENT_DATA_VIEW and e.target != world.event_id]


def found(outcome: CliOutcome) -> list[dict[str, Any]]:
    """The rows a ``--json`` search listed, bar those that are the searches of this test
    itself (an audit search finds the views the earlier searches recorded)."""
    assert outcome.returncode == 0, outcome.stderr
    rows: list[dict[str, Any]] = json.loads(outcome.stdout)
    return [r for r in rows if r.get("target") != "audit.search"]


def assert_no_bsn(outcome: CliOutcome) -> None:
    for said in (outcome.stdout, outcome.stderr):
        assert BSN not in said and READ_OUT not in said, said


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
@pytest.mark.parametrize("piped", [f"{READ_OUT}\n", f"  {BSN}  \r\nnext line\n", BSN])
def test_a_piped_bsn_finds_what_the_value_finds_and_is_recorded_alike(
    world: World, command: tuple[str, ...], piped: str
) -> None:
    by_stdin = cli(world, *command, "--bsn", "-", "--json", input=piped)
    assert_no_bsn(by_stdin)
    assert WARNING not in by_stdin.stderr  # nothing on the command line to warn about
    [recorded] = searches(world)
    assert recorded.details["bsn_hash"] == BSN_HASH  # the same record as the value makes
    by_value = cli(world, *command, "--bsn", READ_OUT, "--json")
    assert_no_bsn(by_value)
    rows = found(by_stdin)
    assert rows, "the world has something for each search to find"
    assert rows == found(by_value)
    assert recorded.details["found"] == len(json.loads(by_stdin.stdout))
    again = searches(world)[0]  # an audit search also finds the view the first one recorded
    assert (again.actor, again.target) == (recorded.actor, recorded.target)
    assert {**again.details, "found": None} == {**recorded.details, "found": None}


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_bsn_on_the_command_line_still_works_with_one_warning_on_stderr(
    world: World, command: tuple[str, ...]
) -> None:
    table = cli(world, *command, "--bsn", BSN)
    assert table.returncode == 0, table.stderr
    assert_no_bsn(table)
    [warning] = [line for line in table.stderr.splitlines() if WARNING in line]
    assert warning == ON_COMMAND_LINE
    assert "process list" in warning and "--bsn -" in warning
    assert WARNING not in table.stdout
    as_json = cli(world, *command, "--bsn", BSN, "--json")
    assert found(as_json)  # stdout is the JSON alone
    assert ON_COMMAND_LINE in as_json.stderr


@pytest.mark.parametrize("command", WITH_CSV, ids=[" ".join(c) for c in WITH_CSV])
def test_with_csv_stdout_stays_the_csv_alone(world: World, command: tuple[str, ...]) -> None:
    by_value = cli(world, *command, "--bsn", BSN, "--csv")
    by_stdin = cli(world, *command, "--bsn", "-", "--csv", input=BSN)
    for outcome in (by_value, by_stdin):
        assert outcome.returncode == 0, outcome.stderr
        assert_no_bsn(outcome)
        assert WARNING not in outcome.stdout
    assert ON_COMMAND_LINE in by_value.stderr and WARNING not in by_stdin.stderr
    header = by_value.stdout.splitlines()[0]
    assert by_stdin.stdout.splitlines()[0] == header and "warning" not in header


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
@pytest.mark.parametrize("given", ["", "\n", "   \nlater\n"], ids=["nothing", "empty", "blank"])
def test_nothing_on_stdin_is_refused_clearly(
    world: World, command: tuple[str, ...], given: str
) -> None:
    refused = cli(world, *command, "--bsn", "-", input=given)
    assert refused.returncode == 2, refused.stderr
    assert NONE_READ in " ".join(refused.stderr.split()), refused.stderr
    assert "standard input" in refused.stderr and refused.stdout == ""
    as_json = cli(world, *command, "--bsn", "-", "--json", input=given)
    assert as_json.returncode == 2
    error = json_error(as_json.stdout, 2)
    assert error["fields"] == ["--bsn"] and "standard input" in error["rule"]
    assert searches(world) == []


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_bad_piped_bsn_is_refused_as_the_value_is(world: World, command: tuple[str, ...]) -> None:
    """The same rule, naming --bsn, never repeating what was given."""
    bad = "123456789"  # fails the eleven-test
    by_stdin = cli(world, *command, "--bsn", "-", input=f"{bad}\n")
    by_value = cli(world, *command, "--bsn", bad)
    assert by_stdin.returncode == by_value.returncode == 2
    assert "--bsn:" in by_stdin.stderr and bad not in by_stdin.stderr + by_stdin.stdout
    refusal = [line for line in by_value.stderr.splitlines() if WARNING not in line]
    assert by_stdin.stderr.splitlines() == refusal
    assert searches(world) == []


def test_at_a_terminal_the_bsn_is_asked_for_and_not_echoed(world: World, tmp_path: Path) -> None:
    """The command as its own process, stdin and stderr a pseudo-terminal that is its
    controlling terminal (as a login gives it): the prompt is on the terminal, what is typed
    is not, and stdout is the listing the value finds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRATOR_")}
    env.update(world.env, COLUMNS="200")
    terminal, other_end = pty.openpty()

    def controlled_by_the_terminal() -> None:  # after start_new_session's setsid
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "integrator", "events", "list", "--bsn", "-", "--json"],
        stdin=other_end,
        stdout=subprocess.PIPE,
        stderr=other_end,
        env=env,
        cwd=ROOT,
        start_new_session=True,
        preexec_fn=controlled_by_the_terminal,
    )
    os.close(other_end)
    seen = b""
    try:
        seen = _read_until(terminal, b"BSN: ", seen)
        os.write(terminal, f"{READ_OUT}\r".encode())
        seen = _read_until(terminal, None, seen)  # to the end: the process closed the terminal
        stdout, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(terminal)
    screen = seen.decode(errors="replace")
    assert process.returncode == 0, screen
    assert BSN not in screen and "999" not in screen, screen  # not echoed
    assert BSN not in stdout.decode()
    rows = json.loads(stdout)
    assert [r["id"] for r in rows] == [world.event_id]
    assert rows == found(cli(world, "events", "list", "--bsn", BSN, "--json"))


def _read_until(fd: int, wanted: bytes | None, seen: bytes, timeout: float = 60) -> bytes:
    """What the terminal shows, read until it holds ``wanted`` (``None``: until it is closed)."""
    deadline = time.monotonic() + timeout
    while wanted is None or wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"the terminal showed {seen!r}, waiting for {wanted!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every process holding the terminal has closed it
            chunk = b""
        if not chunk:
            assert wanted is None, f"the terminal closed showing {seen!r}, not {wanted!r}"
            return seen
        seen += chunk
    return seen
