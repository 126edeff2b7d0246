"""On an 80-column terminal the dead-letter, event and audit listings cut no id, ZD number or
time: ``ZD200000001`` cut to ``ZD2000…`` cannot be told from ``ZD200000002``, and an id cut to
``7a1f6a…`` cannot be pasted into ``resend``. Free text (reasons) wraps or gives way instead.

The commands run as a process with ``COLUMNS=80``, as on a terminal that wide.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from integrator.presenters import shown_time
from integrator.settings import Settings
from integrator.store import AttemptRecord, Store
from tests.integrator.test_cli_reading import SHOWN_TIME, cli, stored
from tests.store.factories import T0, make_event, make_message

ROOT = Path(__file__).resolve().parents[2]
AMSTERDAM = Settings(timezone="Europe/Amsterdam").zone
ZDS = ("ZD200000001", "ZD200000002")
LONG_REASON = (
    "ConnectFailed: connect to 10.0.4.12:6661 failed: ConnectionRefusedError: the hospital's "
    "interface engine was down for maintenance; gave up after 5 attempts (max_attempts 5)"
)


@pytest.fixture
def narrow(tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    """Two events of ZD numbers alike, each with a dead message whose id starts alike, a long
    reason; audit entries about them with a long reason. The environment and the message ids."""
    ids = [f"7a1f6a2b-{n}000-4000-8000-000000000000" for n in (1, 2)]
    batch = [
        (
            make_event(zd_number=zd, provider_id="ziekenhuis-noord"),
            # Queued, then dead by its last attempt, as delivery makes one.
            [make_message(id=i, destination_id="ziekenhuis-noord")],
        )
        for zd, i in zip(ZDS, ids, strict=True)
    ]
    env = stored(tmp_path, batch, timedelta(seconds=1))

    async def fill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for message_id in ids:
                tried = AttemptRecord(message_id, 5, T0, 12.5, "deadletter", ack_code="AE")
                await store.record_attempt(tried, status="dead", last_error=LONG_REASON)
                await store.add_audit(
                    "person:anna@example.nl",
                    "message.resend",
                    message_id,
                    reason="GP called on 27-11: the referral never arrived (ticket 4711)",
                )

    asyncio.run(fill())
    return env, ids


def at_80_columns(env: Mapping[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "integrator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **env, "COLUMNS": "80", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def cells_whole(text: str) -> None:
    assert "…" not in text, text
    assert max(len(line) for line in text.splitlines()) <= 80, text
    for zd in ZDS:
        assert f" {zd} " in f" {text} ".replace("\n", " "), text


def listed_ids(text: str) -> list[str]:
    """The (short) ids the table shows, as they start its rows."""
    return [line.split()[0] for line in text.splitlines() if line.startswith("7a1f6a2b")]


def test_dead_letters_at_80_columns_keep_ids_and_zd_numbers_whole(
    narrow: tuple[dict[str, str], list[str]],
) -> None:
    env, ids = narrow
    text = at_80_columns(env, "deadletter", "list")
    cells_whole(text)
    shown = listed_ids(text)
    assert len(shown) == 2 and shown[0] != shown[1], text
    for short, full in zip(sorted(shown), ids, strict=True):
        assert full.startswith(short) and len(short) > 8, text
        taken_back = cli(env, "deadletter", "show", short, "--json")  # pasted into a command
        assert taken_back.exit_code == 0, taken_back.output
    assert "maintenance" in text  # the reason wraps rather than being cut or left out
    # ...and when each died still shows, to the minute, local: the reason does not push it out.
    rows = json.loads(cli(env, "deadletter", "list", "--json").stdout)
    assert "died" in text.split(), text
    for row in rows:
        died = datetime.fromisoformat(row["dead_since"]).astimezone(AMSTERDAM)
        [line] = [
            line
            for line in text.splitlines()
            if line.startswith("7a1f6a2b") and row["id"].startswith(line.split()[0])
        ]
        assert died.strftime("%m-%d %H:%M") in line, text


def test_the_died_time_an_80_column_listing_shows_is_taken_back_by_since_and_until(
    narrow: tuple[dict[str, str], list[str]],
) -> None:
    """``--since "12-04 18:44"``, the died column as an 80-column terminal shows it, was refused
    with a message offering "a date-time as listings show it": it is this year's now, and
    ``--until`` takes the whole of that minute."""
    env, ids = narrow
    text = at_80_columns(env, "deadletter", "list")
    rows = json.loads(cli(env, "deadletter", "list", "--json").stdout)
    first = min(rows, key=lambda row: row["dead_since"])
    died = datetime.fromisoformat(first["dead_since"]).astimezone(AMSTERDAM)
    shown = died.strftime("%m-%d %H:%M")
    assert shown in text, text
    since = cli(env, "deadletter", "list", "--since", shown, "--json")
    assert since.exit_code == 0, since.output
    assert {row["id"] for row in json.loads(since.stdout)} == set(ids)
    until = cli(env, "deadletter", "list", "--until", shown, "--json")
    assert until.exit_code == 0, until.output
    assert first["id"] in {row["id"] for row in json.loads(until.stdout)}


def test_events_at_80_columns_keep_ids_zd_numbers_and_times_whole(
    narrow: tuple[dict[str, str], list[str]],
) -> None:
    env, _ = narrow
    text = at_80_columns(env, "events", "list")
    cells_whole(text)
    assert shown_time(T0, AMSTERDAM) in text, text
    assert "ziekenhuis-noord" in text


def test_the_audit_trail_at_80_columns_keeps_times_actors_and_targets_whole(
    narrow: tuple[dict[str, str], list[str]],
) -> None:
    env, ids = narrow
    text = at_80_columns(env, "audit", "list", "--action", "message.resend")
    assert "…" not in text, text
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert text.count("person:anna@example.nl") == 2, text
    assert len(SHOWN_TIME.findall(text)) == 2, text  # to the second, with the offset
    targets = [t for t in text.split() if t.startswith("7a1f6a2b")]
    assert len(set(targets)) == 2 and all(len(t) > 8 for t in targets), text
    assert sorted(i[: len(t)] for i, t in zip(ids, sorted(targets), strict=True)) == sorted(targets)
    for target in targets:
        found = cli(env, "audit", "list", "--message", target, "--json")
        assert found.exit_code == 0 and found.stdout.count('"message.resend"') == 1
