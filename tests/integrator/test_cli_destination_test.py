"""``integrator destinations test`` of a paused destination: refused unless asked for.

In-process (``CliRunner``) on a real store, with a real MLLP receiver on a thread of its own:
the CLI runs its own event loop, so the receiver cannot share it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.cli import app
from integrator.store import AuditFilter, AuditRecord, Store
from tests.integrator.support import destination


@pytest.fixture
def receiver() -> Iterator[MllpReceiver]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = MllpReceiver()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
    saved = structlog.get_config()  # the CLI points structlog at CliRunner's stream
    yield server
    structlog.configure(**saved)
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def _tests_audited(env: dict[str, str]) -> list[AuditRecord]:
    async def go() -> list[AuditRecord]:
        store = await Store.open(env["INTEGRATOR_DATABASE_URL"])
        try:
            return await store.list_audit(AuditFilter(action="destination.test"))
        finally:
            await store.close()

    return asyncio.run(go())


def test_a_paused_destination_gets_a_test_message_only_with_even_if_paused(
    env: dict[str, str], receiver: MllpReceiver
) -> None:
    paused = destination("noord", receiver.port, providers=["ziekenhuis-noord"], enabled=False)
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "noord.yaml").write_text(
        dump_destination(paused), encoding="utf-8"
    )
    runner = CliRunner()

    refused = runner.invoke(app, ["destinations", "test", "noord"], env=env)
    assert refused.exit_code == 1, refused.output
    said = " ".join(refused.stderr.split())
    assert "destination 'noord' is paused" in said
    assert "send one anyway with --even-if-paused" in said
    assert receiver.received == [] and _tests_audited(env) == []

    sent = runner.invoke(
        app, ["destinations", "test", "noord", "--even-if-paused", "--json"], env=env
    )
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["ack_code"] == "AA"
    assert len(receiver.received) == 1
    [entry] = _tests_audited(env)
    assert entry.details["paused"] is True and entry.details["even_if_paused"] is True


def test_an_event_type_that_is_none_is_named_as_every_command_names_it(
    env: dict[str, str], receiver: MllpReceiver
) -> None:
    """``--event-type verwijzing`` said the destination "takes no verwijzing messages", as if
    it were a kind it did not map; every other command says it is no event type at all."""
    config = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "noord.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    runner = CliRunner()

    refused = runner.invoke(
        app, ["destinations", "test", "noord", "--event-type", "verwijzing"], env=env
    )
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "--event-type: not an event type; one of referral, diagnostic_request" in said
    assert receiver.received == [] and _tests_audited(env) == []

    sent = runner.invoke(
        app, ["destinations", "test", "noord", "--event-type", " Referral ", "--json"], env=env
    )
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["version"] == "ref-v2"


def test_a_test_message_is_made_in_the_engine_s_zone(
    env: dict[str, str], receiver: MllpReceiver
) -> None:
    """RF1-7 (the referral's creation) came in UTC beside MSH-7's local time, where
    receivers.md's example shows both with the engine's offset."""
    noord = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
    Path(env["INTEGRATOR_DESTINATIONS_DIR"], "noord.yaml").write_text(
        dump_destination(noord), encoding="utf-8"
    )
    zoned = {**env, "INTEGRATOR_TIMEZONE": "Europe/Amsterdam"}
    sent = CliRunner().invoke(app, ["destinations", "test", "noord", "--json"], env=zoned)
    assert sent.exit_code == 0, sent.output
    [message] = receiver.received
    segments = {s.split(b"|")[0]: s.split(b"|") for s in message.split(b"\r") if s}
    msh7, rf17 = segments[b"MSH"][6], segments[b"RF1"][7]
    assert msh7[-5:] in (b"+0100", b"+0200"), msh7
    assert rf17[-5:] == msh7[-5:], (msh7, rf17)
