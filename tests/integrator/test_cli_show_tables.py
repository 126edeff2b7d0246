"""``messages show``, ``events show`` and ``deadletter show`` on an 80-column terminal: the
tables inside them fit without cutting an id, a time or a status (``…``), as the listings do;
ids are the short ones the listings show, which the commands take back."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from integrator.store import AttemptRecord, Store
from tests.integrator.test_cli_narrow_listings import at_80_columns
from tests.integrator.test_cli_reading import env_for
from tests.store.dead_families import dead_letter
from tests.store.factories import T0


def _fill(url: str) -> tuple[str, str, str]:
    """A dead letter with two attempts (a long error), resent once and that resend delivered."""

    async def fill() -> tuple[str, str, str]:
        async with await Store.open(url) as store:
            letter = await dead_letter(store, "ZD300000002", "delivered")
            for number in (1, 2):
                attempt = AttemptRecord(
                    message_id=letter,
                    number=number,
                    started_at=T0 + timedelta(seconds=number),
                    duration_ms=12.5,
                    outcome="retry" if number == 1 else "deadletter",
                    ack_code="AE",
                    error="ACK AE: the receiver could not file this referral [code 42] " * 2,
                )
                await store.record_attempt(attempt, status="dead", last_error=attempt.error)
            message = await store.get_message(letter)
            assert message is not None
            [resend] = [m.id for m in await store.list_messages() if m.resend_of == letter]
            return letter, resend, message.event_id

    return asyncio.run(fill())


def test_show_commands_fit_80_columns_without_cutting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    letter, resend, event_id = _fill(url)
    env = env_for(url, tmp_path)
    shown = {
        "messages show": at_80_columns(env, "messages", "show", letter),
        "events show": at_80_columns(env, "events", "show", event_id),
        "deadletter show": at_80_columns(env, "deadletter", "show", letter),
    }
    for command, text in shown.items():
        assert "…" not in text, (command, text)
        assert max(len(line) for line in text.splitlines()) <= 80, (command, text)
    attempted = "2026-11-20T09:15:01+01:00"  # T0 + 1 s, in the zone: whole, on one line
    assert attempted in shown["messages show"] and attempted in shown["deadletter show"]
    assert resend[:8] in shown["messages show"]  # the resend, by the id the commands take
    assert "[code 42]" in shown["messages show"]  # the receiver's words, not read as markup
    events_show = shown["events show"]
    assert letter[:8] in events_show and resend[:8] in events_show
    assert "dead (resolved)" in events_show
    assert at_80_columns(env, "messages", "show", resend[:8])  # taken back
