"""Messages waiting for a destination whose file was deleted by hand are said, not stranded
in silence.

``destinations remove`` refuses while messages wait (or dead-letters them with ``--force``);
``rm`` of the file did neither: the engine logged only how many destinations it applied, the
messages stayed queued for ever, no listing showed them, and ``remove --force`` then answered
"no destination with id". A real engine with its watcher on real files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.errors import ConfigurationError
from integrator.store import MessageFilter
from tests.integrator.support import destination, settings_for
from tests.integrator.test_operators import events, eventually
from tests.services import require_rabbitmq
from tests.transport.helpers import delete_topology, unique_prefix

SAID = "messages wait for a destination no file defines; they are not sent"


@asynccontextmanager
async def paused_noord_with(
    tmp_path: Path, referral_data: dict[str, Any], waiting: int
) -> AsyncIterator[tuple[Engine, MllpReceiver, Path]]:
    """An engine on real files whose destination noord is paused with ``waiting`` messages
    queued for it; the receiver, and noord's file."""
    async with MllpReceiver() as receiver:
        settings = settings_for(tmp_path)
        settings.destinations_dir.mkdir()
        path = settings.destinations_dir / "noord.yaml"
        config = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
        path.write_text(dump_destination(config))
        engine = Engine(settings)
        await engine.start()
        try:
            await engine.admin.set_enabled("noord", False, actor="local:anna", reason="x")
            await engine.intake.submit_many(events(referral_data, waiting), source="cli")
            yield engine, receiver, path
        finally:
            await engine.stop()


async def test_a_file_deleted_with_messages_waiting_is_said_with_what_to_do(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with paused_noord_with(tmp_path, referral_data, 2) as (engine, _, path):
        # Another destination's file beside it: a directory left with none removes nothing
        # (``integrator.no_destination_files``).
        zuid = destination("zuid", 9, providers=["lab-zuid"])
        path.with_name("zuid.yaml").write_text(dump_destination(zuid))
        with capture_logs() as logs:
            path.unlink()  # by hand

            async def said() -> bool:
                return any(e["event"] == SAID for e in logs)

            await eventually(said, timeout=20)
        [line] = [e for e in logs if e["event"] == SAID]
        assert (line["log_level"], line["destination"], line["messages"]) == (
            "error",
            "noord",
            2,
        )
        assert "integrator destinations rollback noord REVISION" in line["detail"]

        with pytest.raises(ConfigurationError) as refused:
            await engine.admin.remove("noord", actor="local:anna", force=True)
        assert str(refused.value).startswith("2 messages wait for noord, which no file")
        assert refused.value.exit_code == 2

        # What it says works: brought back, then removed with --force, they are dead letters.
        history = await engine.store.list_destination_revisions("noord")
        last_good = max(r.revision for r in history if r.config is not None)
        await engine.admin.rollback("noord", last_good, actor="local:anna")
        await engine.admin.remove("noord", actor="local:anna", force=True, reason="gone")
        dead = await engine.store.list_messages(MessageFilter(status="dead"))
        assert len(dead) == 2


@pytest.mark.parametrize(
    "transport", ["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)]
)
async def test_a_file_deleted_while_the_engine_was_stopped_is_said_at_its_start(
    tmp_path: Path, referral_data: dict[str, Any], transport: str
) -> None:
    """Deleted while no engine ran, the start said nothing on RabbitMQ (only a later reload
    did). A file there but refused is not said so: its own refusal names the rule."""
    overrides: dict[str, Any] = {}
    if transport == "rabbitmq":
        overrides = {"amqp_url": require_rabbitmq(), "amqp_prefix": unique_prefix()}
    settings = settings_for(tmp_path, **overrides)
    settings.destinations_dir.mkdir()
    files = {name: settings.destinations_dir / f"{name}.yaml" for name in ("noord", "zuid")}
    try:
        async with MllpReceiver() as receiver:
            for name, path in files.items():
                config = destination(name, receiver.port, providers=["ziekenhuis-noord"])
                path.write_text(dump_destination(config))
            engine = Engine(settings)
            await engine.start()
            try:
                for name in files:
                    await engine.admin.set_enabled(name, False, actor="local:anna", reason="x")
                await engine.intake.submit_many(events(referral_data, 2), source="cli")
            finally:
                await engine.stop()
            files["noord"].unlink()  # by hand, while no engine runs
            files["zuid"].write_text("id: zuid\nhost: [\n")  # refused when read

            again = Engine(settings)
            with capture_logs() as logs:
                await again.start()
            try:
                said = [e for e in logs if e["event"] == SAID]
                assert [(e["log_level"], e["destination"], e["messages"]) for e in said] == [
                    ("error", "noord", 2)
                ]
            finally:
                await again.stop()
    finally:
        if transport == "rabbitmq":
            await delete_topology(overrides["amqp_url"], overrides["amqp_prefix"], list(files))


async def test_messages_dead_lettered_by_a_removal_stay_dead_when_it_comes_back(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    """``remove --force`` dead-letters what waits for a paused destination. The engine's queue
    still held those messages, loaded, so a rollback (or a rollback to its paused revision and
    a resume) delivered them: dead letters sent under their first MSH-10, their reason for
    dying erased, no resend and no audit entry. The removed destination's queue goes with it."""
    async with paused_noord_with(tmp_path, referral_data, 3) as (engine, receiver, _):
        await engine.admin.remove("noord", actor="local:anna", force=True, reason="gone")
        dead = await engine.store.list_messages(MessageFilter(status="dead"))
        assert len(dead) == 3
        history = await engine.store.list_destination_revisions("noord")
        enabled_once = min(r.revision for r in history if r.config is not None)
        await engine.admin.rollback("noord", enabled_once, actor="local:anna", reason="back")
        assert engine.catalog.destinations["noord"].enabled
        # A message of its own after it: delivered, so the runner ran past where they were.
        await engine.intake.submit_many(events(referral_data, 1), source="cli")
        assert await engine.wait_settled(timeout=20)
        assert len(receiver.received) == 1
        after = {m.id: m.status for m in await engine.store.list_messages(MessageFilter())}
        assert [after[m.id] for m in dead] == ["dead"] * 3
