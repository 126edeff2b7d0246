"""``integrator destinations show`` says the destination's last delivery attempt, when and why
it failed, as its tile and page in the console do (``DestinationAdmin.last_attempt``): a
negative ACK by its code, never the receiver's own words. No engine runs here: the attempt is
written as delivery writes it."""

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


def attempted(env: dict[str, str]) -> None:
    async def record() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            message = make_message(destination_id=DEST)
            await store.accept_event(make_event(), [message])
            error = "ACK AE: Patient Jansen unknown"
            attempt = AttemptRecord(message.id, 1, AT, 5.0, "retry", ack_code="AE", error=error)
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
    }
    assert "Jansen" not in text.stdout + as_json.stdout
