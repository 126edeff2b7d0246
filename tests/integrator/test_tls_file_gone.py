"""A TLS file that goes missing takes no destination out of service.

Its definition was accepted with the file there and recorded; a certificate moved away later
(a secret not mounted at a restart, a renewal gone wrong) refuses the destination's file, and
the destination runs on its last recorded revision as for any other refusal: events are routed
to it, its attempts fail with the TLS error and are retried, and the tools can still pause it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from integrator.engine import Engine
from tests.cli_in_process import run_cli as cli
from tests.destinations.test_tls import _ca
from tests.integrator.support import settings_for
from tests.services import free_port
from tests.transport.helpers import eventually

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")

DEST = "ziekenhuis-noord"


def definition(ca_file: Path) -> str:
    return (
        f"id: {DEST}\nname: Ziekenhuis Noord\nproviders: [{DEST}]\nhost: 127.0.0.1\n"
        f"port: {free_port()}\nmessages: {{referral: ref-v2}}\n"
        "retry: {initial: 50ms, max_delay: 100ms, max_attempts: 1000, max_age: 1h}\n"
        f"tls: {{ca_file: {ca_file}, server_name: localhost}}\n"
    )


async def routed_while_the_file_is_gone(tmp_path: Path, referral_data: dict[str, Any]) -> None:
    engine = Engine(settings_for(tmp_path))
    await engine.start()
    try:
        assert DEST in engine.catalog.destinations  # in service, on revision 1
        assert engine.catalog.broken[DEST].revision == 1
        result = await engine.intake.submit(json.dumps(referral_data), source="cli")
        [message] = result.messages  # routed to it, not stored unrouted
        assert message.destination_id == DEST

        async def failed_with_the_tls_error() -> bool:
            attempts = await engine.store.list_attempts(message.message_id)
            return any((a.error or "").startswith("TlsSetupError: tls.ca_file") for a in attempts)

        assert await eventually(failed_with_the_tls_error)
        stored = await engine.store.get_message(message.message_id)
        assert stored is not None and stored.status in ("queued", "sending", "retrying")
    finally:
        await engine.stop()


def test_a_restart_with_the_ca_file_gone_keeps_the_destination_in_service(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    _ca(pki, "ca")
    added = cli("destinations", "add", "-", env=env, input=definition(pki / "ca.pem"))
    assert added.returncode == 0, added.stderr
    (pki / "ca.pem").rename(pki / "ca.pem.moved")

    asyncio.run(routed_while_the_file_is_gone(tmp_path, referral_data))

    listed = cli("destinations", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["state"], row["revision"]) == ("broken", 1)
    assert (row["problem"]["key"], row["problem"]["code"]) == ("tls.ca_file", "file_missing")
    assert "no good definition" not in cli("destinations", "list", env=env).stdout

    paused = cli("destinations", "pause", DEST, "--json", env=env)
    assert paused.returncode == 0, paused.stderr
    assert json.loads(paused.stdout)["revision"] == 2
    listed = cli("destinations", "list", "--json", env=env)
    [row] = json.loads(listed.stdout)
    assert (row["state"], row["revision"]) == ("broken", 2)  # the file still names the gone CA
    shown = cli("destinations", "show", DEST, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert '"enabled": false' in shown.stdout
