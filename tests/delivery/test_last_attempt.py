"""The attempt a message dies at says so, on every front door: recorded as ``deadletter``, and
shown as such by ``messages show`` and ``deadletter show``, also for attempts recorded before
the engine did that (their last one says ``retry``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from integrator.cli import app
from integrator.store import AttemptRecord, Store
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.delivery.support import DEST, FAST_RETRY, messages, start_engine, submit
from tests.integrator.support import settings_for
from tests.store.factories import T0, make_event, make_message


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "INTEGRATOR_DATABASE_URL": settings_for(tmp_path).database_url,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "USER": "piet",
    }


def shown_outcomes(tmp_path: Path, *command: str) -> list[str]:
    result = CliRunner().invoke(app, [*command, "--json"], env=cli_env(tmp_path))
    assert result.exit_code == 0, result.output
    return [a["outcome"] for a in json.loads(result.stdout)["attempt_history"]]


async def nacked_until_dead(
    tmp_path: Path, referral_data: dict[str, Any], max_attempts: int, answer: str
) -> tuple[str, list[str], list[str]]:
    """One message to a receiver that answers ``answer`` to everything, with ``max_attempts``;
    returns its id, its attempts' outcomes as stored and the MSH-10 of every copy received."""
    retry = {**FAST_RETRY, "max_attempts": max_attempts}
    async with MisbehavingReceiver(default=answer) as receiver:
        engine = await start_engine(tmp_path, receiver.port, retry=retry)
        try:
            [message_id] = await submit(engine, referral_data)
            assert await engine.wait_settled(timeout=10)
            [message] = await messages(engine, [message_id])
            attempts = await engine.store.list_attempts(message_id)
            registry = engine.metrics.registry
            counted = {
                outcome: registry.get_sample_value(
                    "integrator_delivery_attempts_total",
                    {"destination": DEST, "outcome": outcome},
                )
                for outcome in ("retry", "failed", "deadletter")
            }
            round_trips = registry.get_sample_value(
                "integrator_ack_roundtrip_seconds_count", {"destination": DEST}
            )
        finally:
            await engine.stop()
        received = receiver.received_ids()
    assert message.status == "dead"
    assert message.last_error is not None
    assert message.last_error.endswith(
        f"gave up after {max_attempts} attempts (max_attempts {max_attempts})"
    )
    assert received == [message.control_id] * max_attempts  # every retry, the same MSH-10
    # The metric counts the attempt the message died at as a dead letter too; an ACK that was
    # read and judged is a round trip, also on that last attempt, and no answer is none.
    before = "retry" if answer == "AE" else "failed"
    assert counted == {before: max_attempts - 1, "deadletter": 1} | {
        o: 0.0 for o in ("retry", "failed") if o != before
    }
    assert round_trips == (max_attempts if answer == "AE" else 0)
    return message_id, [a.outcome for a in attempts], received


@pytest.mark.parametrize(("max_attempts", "answer"), [(2, "AE"), (3, "AE"), (3, "drop")])
def test_the_attempt_a_message_dies_at_is_a_dead_letter_not_a_retry(
    tmp_path: Path, referral_data: dict[str, Any], max_attempts: int, answer: str
) -> None:
    """AE every time (or no answer at all): each attempt but the last is retried; the last
    is where the engine gave up, and the stored outcome, `messages show` and `deadletter
    show` all say so."""
    message_id, stored, _ = asyncio.run(
        nacked_until_dead(tmp_path, referral_data, max_attempts, answer)
    )
    before = "retry" if answer == "AE" else "failed"
    expected = [before] * (max_attempts - 1) + ["deadletter"]
    assert stored == expected
    assert shown_outcomes(tmp_path, "messages", "show", message_id) == expected
    assert shown_outcomes(tmp_path, "deadletter", "show", message_id) == expected


def test_history_recorded_before_the_fix_shows_the_last_attempt_as_given_up(
    tmp_path: Path,
) -> None:
    """Attempts recorded by an older engine: the last one of a dead message says ``retry``
    in the store. It reads as the one the message died at; a message made dead without an
    attempt of its own (its destination was removed) keeps its last attempt as recorded."""
    gave_up, removed = make_message(), make_message()
    url = settings_for(tmp_path).database_url
    exhausted = "ACK AE: busy; gave up after 2 attempts (max_attempts 2)"

    async def fill() -> None:
        async with await Store.open(url) as store:
            await store.accept_event(make_event(), [gave_up, removed])
            for message, last_status, last_error in (
                (gave_up, "dead", exhausted),
                (removed, "retrying", "ACK AE: busy"),
            ):
                await store.record_attempts(
                    [
                        (
                            AttemptRecord(
                                message.id, 1, T0, 3.0, "retry", ack_code="AE", error="ACK AE: busy"
                            ),
                            "retrying",
                            T0,
                            "ACK AE: busy",
                        ),
                        (
                            AttemptRecord(
                                message.id, 2, T0, 3.0, "retry", ack_code="AE", error=last_error
                            ),
                            last_status,
                            None,
                            last_error,
                        ),
                    ]
                )
            await store.set_status(removed.id, "dead", last_error="destination removed")

    asyncio.run(fill())
    for command in ("messages", "deadletter"):
        assert shown_outcomes(tmp_path, command, "show", gave_up.id) == ["retry", "deadletter"]
        assert shown_outcomes(tmp_path, command, "show", removed.id) == ["retry", "retry"]
