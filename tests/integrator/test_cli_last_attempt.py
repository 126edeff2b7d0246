"""``integrator destinations show`` and ``list`` say the destination's last delivery attempt,
when and why it failed, as its tile and page in the console do (``DestinationAdmin.
last_attempt``, ``listing``): a negative ACK by its code, never the receiver's own words. The
CLI runs on the server as a trusted user (``local:<user>``, every permission): it is told the
reason of either kind. No engine runs here: the attempt is written as delivery writes it."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from integrator.store import AttemptRecord, Store
from tests.cli_in_process import run_cli as cli
from tests.store.factories import make_event, make_message

ROOT = Path(__file__).resolve().parents[2]
DEST = "ziekenhuis-noord"
AT = datetime(2026, 11, 20, 9, 42, 5, 250000, tzinfo=UTC)


def attempted(
    env: dict[str, str],
    error: str = "ACK AE: Patient Jansen unknown",
    destination_id: str = DEST,
    outcome: str = "retry",
) -> None:
    async def record() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            message = make_message(destination_id=destination_id)
            await store.accept_event(make_event(), [message])
            code = "AE" if error.startswith("ACK") else None
            attempt = AttemptRecord(message.id, 1, AT, 5.0, outcome, ack_code=code, error=error)
            await store.record_attempt(attempt, status="retrying", last_error=error)

    asyncio.run(record())


def test_show_says_the_last_attempt_and_withholds_the_receivers_words(
    env: dict[str, str],
) -> None:
    env = {**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(ROOT / "config" / "destinations" / f"{DEST}.yaml", directory / f"{DEST}.yaml")
    before = cli("destinations", "show", DEST, env=env)
    assert before.returncode == 0, before.stderr
    assert "# last attempt: -\n" in before.stdout
    assert (
        json.loads(cli("destinations", "show", DEST, "--json", env=env).stdout)["last_attempt"]
        is None
    )

    attempted(env)
    text = cli("destinations", "show", DEST, env=env)
    assert text.returncode == 0, text.stderr
    said = "# last attempt: 2026-11-20T10:42:05+01:00: ACK AE (receiver's text withheld)\n"
    assert said in text.stdout
    as_json = cli("destinations", "show", DEST, "--json", env=env)
    assert json.loads(as_json.stdout)["last_attempt"] == {
        "at": "2026-11-20T10:42:05.250000+01:00",
        "outcome": "retry",
        "ack_code": "AE",
        "reason": "ACK AE (receiver's text withheld)",
        "retrying": None,
    }
    assert "Jansen" not in text.stdout + as_json.stdout


REFUSED = (
    "ConnectFailed: connect to 127.0.0.1:2575 failed: ConnectionRefusedError: "
    "[Errno 111] Connect call failed ('127.0.0.1', 2575)"
)


def test_list_says_each_last_attempt(env: dict[str, str]) -> None:
    """The table's *last* column says what came of it; each that did not deliver is said
    below it with when and why; ``--json`` has ``last_attempt`` in every row."""
    env = {**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    for name in (DEST, "lab-west"):
        shutil.copy(ROOT / "config" / "destinations" / f"{name}.yaml", directory / f"{name}.yaml")
    attempted(env)
    attempted(env, REFUSED, "lab-west", "failed")
    text = cli("destinations", "list", env={**env, "COLUMNS": "200"})
    assert text.returncode == 0, text.stderr
    [header] = [line for line in text.stdout.splitlines() if line.startswith("id ")]
    assert " last " in header, text.stdout
    lines = text.stdout.splitlines()
    assert f"last attempt {DEST}: 2026-11-20T10:42:05+01:00: ACK AE (receiver's text withheld)" in (
        lines
    ), text.stdout
    assert f"last attempt lab-west: 2026-11-20T10:42:05+01:00: {REFUSED}" in lines, text.stdout
    as_json = cli("destinations", "list", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    rows = {row["id"]: row["last_attempt"] for row in json.loads(as_json.stdout)}
    assert rows[DEST] == {
        "at": "2026-11-20T10:42:05.250000+01:00",
        "outcome": "retry",
        "ack_code": "AE",
        "reason": "ACK AE (receiver's text withheld)",
        "retrying": None,
    }
    assert rows["lab-west"] is not None and rows["lab-west"]["reason"] == REFUSED
    assert "Jansen" not in text.stdout + as_json.stdout
    shown = json.loads(cli("destinations", "show", "lab-west", "--json", env=env).stdout)
    assert shown["last_attempt"] == rows["lab-west"]


def test_a_message_still_retrying_behind_a_later_delivered_one_is_said(
    env: dict[str, str],
) -> None:
    """``ordering: rotate``: a later message delivered past one the receiver keeps refusing.
    ``show`` and ``list`` say the delivery and, beside it, the message still retrying."""
    env = {**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(ROOT / "config" / "destinations" / f"{DEST}.yaml", directory / f"{DEST}.yaml")
    attempted(env)  # ACK AE, retrying

    async def delivered_later() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            message = make_message(destination_id=DEST)
            await store.accept_event(make_event(), [message])
            later = AT.replace(minute=50)
            attempt = AttemptRecord(message.id, 1, later, 5.0, "delivered", ack_code="AA")
            await store.record_attempt(attempt, status="delivered", last_error=None)

    asyncio.run(delivered_later())
    behind = "; 1 retrying, the oldest since "
    shown = cli("destinations", "show", DEST, env=env)
    assert shown.returncode == 0, shown.stderr
    [line] = [x for x in shown.stdout.splitlines() if x.startswith("# last attempt: ")]
    assert line.startswith("# last attempt: 2026-11-20T10:50:05+01:00: delivered" + behind), line
    assert line.endswith(": ACK AE (receiver's text withheld)"), line
    listed = cli("destinations", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"last attempt {DEST}: {line.removeprefix('# last attempt: ')}" in listed.stdout
    as_json = json.loads(cli("destinations", "show", DEST, "--json", env=env).stdout)
    retrying = as_json["last_attempt"]["retrying"]
    assert retrying["count"] == 1 and retrying["since"].endswith("+01:00")
    assert retrying["last_attempt"] == {
        "at": "2026-11-20T10:42:05.250000+01:00",
        "outcome": "retry",
        "ack_code": "AE",
        "reason": "ACK AE (receiver's text withheld)",
    }
    assert "Jansen" not in shown.stdout + listed.stdout


def test_show_says_the_last_real_attempt_after_a_forced_remove_and_a_rollback(
    env: dict[str, str],
) -> None:
    """``remove --force`` makes the messages still waiting dead letters, without an attempt;
    a rollback brings the destination back. Its newest message, never tried, hid the attempt
    made before: ``# last attempt: -``. The attempt the receiver answered is said."""
    env = {**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    shutil.copy(ROOT / "config" / "destinations" / f"{DEST}.yaml", directory / f"{DEST}.yaml")
    first = cli("destinations", "update", DEST, "--set", "port=2599", env=env)
    assert first.returncode == 0 and "revision 1" in first.stdout, first.stdout + first.stderr
    attempted(env)  # ACK AE, retrying

    async def queued_behind() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            await store.accept_event(make_event(), [make_message(destination_id=DEST)])

    asyncio.run(queued_behind())
    removed = cli("destinations", "remove", DEST, "--force", "--reason", "moved", env=env)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert "2 waiting messages of" in removed.stderr, removed.stderr
    back = cli("destinations", "rollback", DEST, "1", "--reason", "moved back", env=env)
    assert back.returncode == 0, back.stdout + back.stderr

    shown = cli("destinations", "show", DEST, env=env)
    assert shown.returncode == 0, shown.stderr
    said = "# last attempt: 2026-11-20T10:42:05+01:00: ACK AE (receiver's text withheld)\n"
    assert said in shown.stdout, shown.stdout
    listed = json.loads(cli("destinations", "list", "--json", env=env).stdout)
    [row] = [r for r in listed if r["id"] == DEST]
    assert row["last_attempt"] is not None and row["last_attempt"]["ack_code"] == "AE"
