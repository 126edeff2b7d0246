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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from integrator.engine import Engine
from integrator.operators import DestinationAdmin
from integrator.store import AuditFilter, Store
from integrator.store_for import open_store
from tests.cli_in_process import run_cli as cli
from tests.destinations.test_tls import _ca
from tests.integrator.support import settings_for
from tests.integrator.test_destination_edits import changed_lines
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


# As people annotate their files: comments above keys and at line ends, quoted strings, values
# aligned, a block list, nested sections.
ANNOTATED = """\
# Ziekenhuis Noord, agreed with their HIS team (ticket 4711).

id: ziekenhuis-noord            # the file is named after it
name: "Ziekenhuis Noord"        # shown in the console
providers:
  - ziekenhuis-noord            # the main site
  - "zn-spoed"

# Their MLLP listener, behind the hospital's firewall.
host:     127.0.0.1
port:     2575

messages:
  referral: ref-v2              # REF^I12

retry:
  # Back off fast: the HIS restarts within minutes.
  initial: '500ms'
  max_attempts: 1000            # then a dead letter

# TLS since 2025; their CA is renewed every year.
tls:
  ca_file: "{ca_file}"   # their CA
  server_name: localhost        # the name in their certificate
"""


async def updates_audited(store: Store) -> int:
    return len(await store.list_audit(AuditFilter(action="destination.update", target=DEST)))


async def test_a_put_of_what_get_shows_leaves_the_file_as_it_is_and_a_port_changes_one_line(
    tmp_path: Path,
) -> None:
    """A change rewrote the whole file as ruamel writes it (the aligned values lost their
    spaces); and with the CA file gone, a PUT of the definition as GET showed it rewrote the
    refused file (every value judged changed, defaults spelled out, the block list made a flow
    one), kept a copy of it and said it had repaired it, though the file said that definition
    already and stayed refused for its CA file."""
    pki = tmp_path / "pki"
    pki.mkdir()
    _ca(pki, "ca")
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    path = settings.destinations_dir / f"{DEST}.yaml"
    text = ANNOTATED.format(ca_file=pki / "ca.pem")
    path.write_text(text)
    store = await open_store(settings)
    try:
        admin = DestinationAdmin(
            store=store,
            settings=settings,
            today=lambda: date(2026, 11, 27),
            now=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        )
        assert await admin.record_file_changes(await admin.catalog()) == 1
        config, _ = await admin.get(DEST)
        shown = config.model_dump(mode="json")  # what GET shows
        assert (await admin.replace(DEST, shown, actor="anna")).changed is False
        moved = await admin.replace(DEST, {**shown, "port": 2576}, actor="anna")
        assert moved.revision == 2
        assert changed_lines(text, path.read_text()) == [("port:     2575", "port: 2576")]

        text = path.read_text()
        (pki / "ca.pem").rename(pki / "ca.pem.renewing")
        view = await admin.view(DEST)
        assert view.broken is not None and view.broken.problem.code == "file_missing"
        assert view.config is not None
        written, audited = path.stat().st_mtime_ns, await updates_audited(store)
        again = await admin.replace(DEST, view.config.model_dump(mode="json"), actor="anna")
        assert (again.changed, again.rewrote_refused_file, again.diff) == (False, None, "")
        assert again.warnings == (
            f"{path} is still refused (tls.ca_file: file does not exist); it already says this "
            "definition, so it was left as it is: put right what it is refused for",
        )
        assert (path.read_text(), path.stat().st_mtime_ns) == (text, written)
        assert list(settings.destinations_dir.glob("*.refused")) == []
        assert await updates_audited(store) == audited

        shown = view.config.model_dump(mode="json")
        await admin.replace(DEST, {**shown, "port": 2577}, actor="anna")
        assert changed_lines(text, path.read_text()) == [("port: 2576", "port: 2577")]
    finally:
        await store.close()
