"""An answer after the answer is kept with the message it answers, and shown with it.

A receiver's ``AR`` after the ``AA`` that delivered a message was logged (at warning) and
counted, but support looking at the message saw it delivered and nothing more. The engine now
keeps each such answer with its message (code, time, how it came; never its text), and
``messages show``, its ``--json``, the API and the console show it. Run with a real engine on
a loopback receiver that answers each message ``AA`` and then ``AR``.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from destinations.config import dump_destination
from destinations.worker import LateAnswer
from integrator.engine import Engine
from integrator.late_answers import LateAnswerKeeper
from integrator.store import Store
from integrator.store.late_answers import LateAnswerRecord
from tests.cli_in_process import run_cli
from tests.destinations.helpers import ScriptedServer
from tests.destinations.test_skipped_frames import AcceptedThenRejected
from tests.integrator.support import destination, settings_for
from tests.integrator.test_operators import events, eventually
from tests.store.factories import make_event, make_message


async def delivered_then_refused(tmp_path: Path, referral: dict[str, Any]) -> tuple[str, str]:
    """Two events to a receiver that sends its ``AR`` a moment after its ``AA``: the first
    message's ``AR`` comes while the connection is quiet, and is met at the second's send.
    The first message's id, and the second's."""
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    async with ScriptedServer(AcceptedThenRejected(pause=0.05)) as server:
        config = destination("noord", server.port, providers=["ziekenhuis-noord"])
        (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
        engine = Engine(settings)
        await engine.start()
        try:
            first, second = events(referral, 2)
            await engine.intake.submit_many([first], source="cli")
            assert await engine.wait_settled(timeout=10)
            await asyncio.sleep(0.3)  # the AR is there before the next message is sent
            await engine.intake.submit_many([second], source="cli")
            assert await engine.wait_settled(timeout=10)
            listed = await engine.store.list_messages(limit=10)
            ids = [m.id for m in sorted(listed, key=lambda m: m.created_at)]
            assert [m.status for m in listed] == ["delivered", "delivered"]

            async def kept() -> bool:
                return bool(await engine.store.late_answers_of(ids[0]))

            await eventually(kept, timeout=10)
            [late] = await engine.store.late_answers_of(ids[0])
            assert isinstance(late, LateAnswerRecord)
            assert (late.ack_code, late.how) == ("AR", "dropped")
            # When it came, not when the next send met it 0.3 s later.
            [next_attempt] = await engine.store.list_attempts(ids[1])
            assert late.received_at < next_attempt.started_at - timedelta(seconds=0.2)
            assert await engine.store.late_answers_of(ids[1]) == []  # not yet: it comes later
            # Counted too: the meter sat behind the attempt log, which did not pass it on, so
            # a running engine never counted one (integrator_late_answers_total, the alert).
            counted = engine.metrics.registry.get_sample_value(
                "integrator_late_answers_total", {"destination": "noord", "code": "AR"}
            )
            assert counted == 1
        finally:
            await engine.stop()
    return ids[0], ids[1]


def test_an_ar_after_the_aa_is_kept_with_its_message_and_shown_by_messages_show(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    refused, _ = asyncio.run(delivered_then_refused(tmp_path, referral_data))
    env = {
        **os.environ,
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/store.db",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path / "destinations"),
    }
    shown = run_cli("messages", "show", refused, env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    heading = "Answered again after its answer (the first answer stood; ask the receiver why):"
    at = lines.index(heading)
    assert lines[at + 1].startswith("  AR at ")
    assert lines[at + 1].endswith(": came after the answer; the connection was closed for it")
    as_json = run_cli("messages", "show", refused, "--json", env=env)
    detail = json.loads(as_json.stdout)
    assert detail["status"] == "delivered"  # the first answer stood
    [late] = detail["late_answers"]
    assert (late["ack_code"], late["how"]) == ("AR", "dropped")
    assert late["received_at"] >= detail["attempt_history"][-1]["started_at"]


async def test_only_a_negative_late_answer_is_kept(tmp_path: Path) -> None:
    """A receiver that answers ``CA`` and then ``AA`` (routine, receivers.md) sends a late
    ``AA`` for every message: counted, not written, not shown. A negative one is kept, and
    none is taken once the keeper closed (the engine's stop)."""
    store = await Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        message = make_message()
        assert await store.accept_event(make_event(), [message])
        keeper = LateAnswerKeeper(store)
        now = datetime.now(UTC)
        for code in ("AA", "CA", "AR", "CE"):
            keeper.keep(LateAnswer(code, message.id, now, "skipped"))
        keeper.keep(LateAnswer("AE", None, now, "dropped"))  # its message not known: nothing
        await keeper.close(within=5)
        keeper.keep(LateAnswer("AR", message.id, now, "dropped"))
        await asyncio.sleep(0.05)
        kept = await store.late_answers_of(message.id)
        assert sorted(a.ack_code for a in kept) == ["AR", "CE"]
    finally:
        await store.close()
