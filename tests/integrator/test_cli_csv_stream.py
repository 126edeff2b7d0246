"""The CLI's CSV exports are written a page at a time (``integrator.export_stream``): the same
bytes as the file built whole, one audit entry with the right count, and a cut export said on
stderr, exit 1 (130 when Ctrl-C cut it) and recorded as ``export.cut`` with the rows that did
go out.

The store holds more than two pages (``export_stream.PAGE``) of each export, with ties in
the listing's order where a page ends: every event arrives at the same moment, and an event's
two messages are made in one reading of the clock.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from integrator.audit import audit_csv
from integrator.exports import events_csv
from integrator.message_reads import dead_letter_states
from integrator.search import to_csv
from integrator.store import AttemptRecord, MessageFilter, Store
from integrator.store.errors import StoreUnavailable
from integrator.store.records import AuditFilter, AuditRecord, EventFilter
from tests.cli_in_process import run_cli
from tests.integrator.test_cli_reading import AMSTERDAM, env_for
from tests.store.factories import T0, StepClock, make_event, make_message
from tests.terminal import as_at_a_terminal

T = TypeVar("T")
PAGE = 1_000
"""``export_stream.PAGE``, here as a number: these tests also run against the exports built
whole, which have no pages (the equal files and the single audit entry hold there too)."""
ROOT = Path(__file__).resolve().parents[2]
EVENTS = PAGE + 150
MESSAGES = 2 * EVENTS  # three pages
AUDIT = 2 * PAGE + 100  # three pages


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of ``EVENTS`` events (two messages each, some dead, some cells a spreadsheet
    would run) and ``AUDIT`` more audit entries; each test exports from a copy of it."""
    path = tmp_path_factory.mktemp("csv-stream") / "store.db"

    async def fill() -> None:
        async with await Store.open(f"sqlite:///{path}", clock=StepClock()) as store:
            for n in range(EVENTS):
                provider = '=HYPERLINK("http://x.example/")' if n % 97 == 0 else "noord"
                pair = [make_message(control_id=f"+c{n}-{k}") for k in range(2)]
                await store.accept_event(make_event(provider_id=provider), pair)
                if n % 50 == 0:
                    dead = AttemptRecord(pair[0].id, 1, T0, 3.0, "deadletter", ack_code="AR")
                    await store.record_attempt(dead, status="dead", last_error="=cmd|' /C x'!A0")
            for n in range(AUDIT):
                await store.add_audit("local:tester", "test.entry", f"-target-{n}")

    asyncio.run(fill())
    return path


def test_the_page_is_the_one_these_tests_span() -> None:
    from integrator.export_stream import PAGE as EXPORT_PAGE

    assert EXPORT_PAGE == PAGE


def copy(filled: Path, tmp_path: Path) -> dict[str, str]:
    shutil.copy(filled, tmp_path / "store.db")
    return env_for(f"sqlite:///{tmp_path / 'store.db'}", tmp_path)


def on_store(env: dict[str, str], read: Callable[[Store], Awaitable[T]]) -> T:
    async def go() -> T:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await read(store)

    return asyncio.run(go())


def exports_recorded(env: dict[str, str]) -> list[AuditRecord]:
    async def read(store: Store) -> list[AuditRecord]:
        entries = await store.list_audit(AuditFilter(), limit=10)
        return [e for e in entries if e.action.endswith(("export", "export.cut", ".cut"))]

    return on_store(env, read)


def whole_messages(env: dict[str, str], flt: MessageFilter, limit: int) -> str:
    """The messages' CSV as ``exports.export_messages`` built it: whole, in memory."""

    async def read(store: Store) -> str:
        found = await store.list_messages(flt, limit=limit, payloads=False)
        return to_csv(found, AMSTERDAM, await dead_letter_states(store, found))

    return on_store(env, read)


@pytest.mark.parametrize("period", [False, True], ids=["by seq", "by creation time"])
def test_a_messages_export_of_several_pages_is_the_file_built_whole(
    filled: Path, tmp_path: Path, period: bool
) -> None:
    env = copy(filled, tmp_path)
    since = T0 - timedelta(days=1)
    expected = whole_messages(env, MessageFilter(since=since if period else None), MESSAGES)
    terms = ["--since", since.isoformat()] if period else []
    done = run_cli("messages", "list", "--csv", "--limit", "100000", *terms, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    assert len(done.stdout.splitlines()) == 1 + MESSAGES
    assert "'+c0-0" in done.stdout  # a cell a spreadsheet would run, escaped as ever
    [entry] = exports_recorded(env)  # written once, with the rows the file holds
    assert (entry.action, entry.details["rows"]) == ("messages.export", MESSAGES)


def test_an_export_cut_by_its_limit_is_the_first_rows_and_audited_so(
    filled: Path, tmp_path: Path
) -> None:
    env = copy(filled, tmp_path)
    limit = PAGE + 7
    expected = whole_messages(env, MessageFilter(), limit)
    done = run_cli("messages", "list", "--csv", "--limit", str(limit), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    assert "--limit to see more" in " ".join(done.stderr.split())
    [entry] = exports_recorded(env)
    assert entry.details["rows"] == limit and entry.details["limit"] == limit


def test_an_events_export_of_several_pages_is_the_file_built_whole(
    filled: Path, tmp_path: Path
) -> None:
    env = copy(filled, tmp_path)

    async def read(store: Store) -> str:
        return events_csv(await store.list_events(EventFilter(), limit=EVENTS), AMSTERDAM)

    expected = on_store(env, read)
    done = run_cli("events", "list", "--csv", "--limit", "100000", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected and "'=HYPERLINK" in done.stdout
    [entry] = exports_recorded(env)
    assert (entry.action, entry.details["rows"]) == ("events.export", EVENTS)


def test_an_audit_export_of_several_pages_is_the_file_built_whole(
    filled: Path, tmp_path: Path
) -> None:
    """Without its own entry, written before its first row, as the file built whole was."""
    env = copy(filled, tmp_path)

    async def read(store: Store) -> tuple[str, int]:
        return audit_csv(
            await store.list_audit(limit=100_000), AMSTERDAM
        ), await store.count_audit()

    expected, entries = on_store(env, read)
    assert entries > 2 * PAGE
    done = run_cli("audit", "list", "--csv", "--limit", "100000", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected and "'-target-" in done.stdout
    [entry] = exports_recorded(env)
    assert (entry.action, entry.details["rows"]) == ("audit.export", entries)


def test_a_store_that_fails_midway_cuts_the_export_saying_so(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first page is out before the second is read; the store fails on the second: exit
    1, what went out on stderr, and the trail says the export held that many rows only."""
    env = copy(filled, tmp_path)
    reads = 0
    original = Store.list_messages

    async def failing(self: Store, *args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        if reads == 2:
            raise StoreUnavailable("the store went away")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "list_messages", failing)
    done = run_cli("messages", "list", "--csv", "--limit", "100000", env=env)
    assert done.returncode == 1
    said = " ".join(done.stderr.split())
    assert f"export stopped after {PAGE:,} of {MESSAGES:,} rows" in said, said
    assert "the file is incomplete" in said and "export.cut" in said
    assert len(done.stdout.splitlines()) == 1 + PAGE
    monkeypatch.undo()
    cut, export = exports_recorded(env)
    assert (export.action, export.details["rows"]) == ("messages.export", MESSAGES)
    assert cut.action == "export.cut" and cut.target == "messages.csv"
    assert cut.details == {"export": "messages.export", "rows": PAGE, "of": MESSAGES}
    assert cut.reason is not None and "went away" in cut.reason


def _exporting(env: dict[str, str], **popen: Any) -> subprocess.Popen[bytes]:
    """``integrator messages list --csv --limit 100000`` started on the store of ``env``, its
    output and errors piped back."""
    return subprocess.Popen(
        [sys.executable, "-m", "integrator", "messages", "list", "--csv", "--limit", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        **popen,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux pipes")
def test_stdout_closed_early_cuts_the_export_saying_so(filled: Path, tmp_path: Path) -> None:
    """``messages list --csv | head``: the reader goes after a few lines; the export stops at
    the next write, exit 1, and the trail says how many rows went out before."""
    env = copy(filled, tmp_path)
    process = _exporting(env)
    assert process.stdout is not None
    process.stdout.read(1000)
    process.stdout.close()  # as `head` does once it has its lines
    _, stderr = process.communicate(timeout=120)
    said = " ".join(stderr.decode().split())
    assert process.returncode == 1, said
    assert "export stopped after" in said and "stdout refused the rest" in said, said
    assert "Traceback" not in said
    cut, export = exports_recorded(env)
    assert export.details["rows"] == MESSAGES
    # The first write (the header and the first page) filled the pipe's 64 KiB and no more:
    # the rows those bytes began went out, and the trail says so.
    assert cut.action == "export.cut" and 0 < cut.details["rows"] < PAGE
    assert f"export stopped after {cut.details['rows']:,} of {MESSAGES:,} rows" in said


def test_the_rows_a_cut_write_began_are_counted() -> None:
    """A row cut midway showed its first cells: it went out, as far as the trail is concerned."""
    from integrator.export_stream import rows_begun

    text = "h1,h2\nr1,é\nr2,b\n"  # the header is 6 characters; é is two bytes
    assert rows_begun(text, 6, 4) == 0
    assert rows_begun(text, 6, 6) == 0
    assert rows_begun(text, 6, 7) == 1
    assert rows_begun(text, 6, 12) == 1
    assert rows_begun(text, 6, 13) == 2
    assert rows_begun(text, 6, 100) == 2


async def test_an_interrupted_export_records_what_went_out(tmp_path: Path) -> None:
    """Ctrl-C cancels the command's task at its next read of the store: the rows written so
    far are recorded (``export.cut``), and the export ends as cut, not as done."""
    from integrator.export_stream import ExportCut, Planned, write_export

    async def pages() -> AsyncGenerator[Sequence[Sequence[object]], None]:
        yield [["a", 1], ["=b", 2]]
        raise asyncio.CancelledError

    out: list[str] = []
    async with await Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with pytest.raises(ExportCut, match="stopped after 2 of 5 rows \\(interrupted\\)"):
            await write_export(
                store,
                Planned("events", ("x", "n"), 5, pages()),
                actor="local:tester",
                terms={},
                bsn_hash=None,
                limit=5,
                write=out.append,
            )
        cut, export = await store.list_audit(AuditFilter(), limit=10)
    assert "".join(out) == "x,n\na,1\n'=b,2\n"
    assert (export.action, export.details["rows"]) == ("events.export", 5)
    assert cut.action == "export.cut" and cut.details == {
        "export": "events.export",
        "rows": 2,
        "of": 5,
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux pipes")
def test_ctrl_c_cuts_the_export_saying_so_and_exits_130(filled: Path, tmp_path: Path) -> None:
    """Ctrl-C in the middle of ``messages list --csv > file``: the export stops at its next
    read of the store, says how far it got, records ``export.cut``, and exits 130 (128 +
    SIGINT), as a shell reports a command Ctrl-C stopped; not 1, which says it broke.

    The export is stopped mid-way by construction: the test reads the first bytes, so the
    export has begun, and reads no more until the signal is sent, so the export, far larger
    than a pipe holds, is waiting to write the rest."""
    env = copy(filled, tmp_path)
    # No read-ahead: what ``communicate`` reads next follows ``first`` exactly.
    process = _exporting(env, bufsize=0, preexec_fn=as_at_a_terminal)
    assert process.stdout is not None
    first = process.stdout.read(1000)
    assert first
    process.send_signal(signal.SIGINT)
    rest, stderr = process.communicate(timeout=120)
    said = " ".join(stderr.decode().split())
    assert process.returncode == 130, said
    assert "Traceback" not in said and "Aborted" not in said, said
    cut, export = exports_recorded(env)
    assert (export.action, export.details["rows"]) == ("messages.export", MESSAGES)
    assert cut.action == "export.cut" and cut.reason == "interrupted"
    assert 0 < cut.details["rows"] < MESSAGES
    assert f"export stopped after {cut.details['rows']:,} of {MESSAGES:,} rows" in said, said
    assert "(interrupted)" in said and "the file is incomplete" in said, said
    assert len((first + rest).decode().splitlines()) == 1 + cut.details["rows"]
