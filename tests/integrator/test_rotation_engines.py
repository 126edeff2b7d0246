"""A key rotation and the engines running on the store: refused while one lacks the new key.

Sealing the store with a key a running engine was not started with leaves that engine unable
to open what it must send or show; before, `keys rotate` went ahead and the engine's API
answered a bare 500 ("internal error") until it was restarted.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrator.datakeys import sealer_for
from integrator.engine import Engine
from integrator.presence import engines_not_sealing_with
from integrator.store import EnginePresence, Store
from integrator.store.errors import DataKeyError
from tests.http.support import api_client
from tests.integrator.support import settings_for
from tests.integrator.test_data_keys import SEARCH_KEY, cli, entry, env_for, fill
from tests.store.factories import engine_elsewhere

OLD, NEW = entry("kid1"), entry("kid2")


def present(tmp_path: Path, data_keys: str | None) -> None:
    """A fresh presence row of an engine on another host, with these key ids (None: unknown)."""

    async def go() -> None:
        url = f"sqlite:///{tmp_path / 'store.db'}"
        async with await Store.open(url, sealer=sealer_for(OLD)) as store:
            now = datetime.now(UTC)
            await store.register_engine(
                EnginePresence(
                    id="e1",
                    host="engine-host-elsewhere",
                    pid=4242,
                    http_address="10.0.0.7:8080",
                    started_at=now,
                    heartbeat_at=now,
                    data_keys=data_keys,
                )
            )

    asyncio.run(go())


def to_seal(tmp_path: Path) -> int:
    counted = cli(env_for(tmp_path, f"{NEW},{OLD}"), "keys", "rotate", "--dry-run", "--json")
    assert counted.exit_code == 0, counted.output
    return int(json.loads(counted.stdout)["total"])


def test_a_rotation_is_refused_while_an_engine_runs_without_the_new_key(tmp_path: Path) -> None:
    fill(tmp_path, OLD, 2)
    before = to_seal(tmp_path)
    present(tmp_path, "kid1")
    env = env_for(tmp_path, f"{NEW},{OLD}")

    for args in (("keys", "rotate"), ("keys", "rotate", "--dry-run")):
        refused = cli(env, *args)
        assert refused.exit_code == 2, refused.output
        assert "1 running engine on this store does not have data key 'kid2'" in refused.stderr
        assert "HTTP at 10.0.0.7:8080, pid 4242 on host engine-host-elsewhere" in refused.stderr
        assert "nothing was sealed" in refused.stderr
        assert NEW.split(":")[1] not in refused.output  # a key id, never a key
    # Nor did it register the new key as one that seals: the store needed kid2 from then on,
    # and every start and read with kid1 alone, as before, was refused (an operator audit).
    back = cli(env_for(tmp_path, OLD), "messages", "list", "--json")
    assert back.exit_code == 0, back.output

    async def forget_engine() -> None:
        url = f"sqlite:///{tmp_path / 'store.db'}"
        async with await Store.open(url, sealer=sealer_for(f"{NEW},{OLD}")) as store:
            await store.remove_engine("e1")

    asyncio.run(forget_engine())
    assert to_seal(tmp_path) == before  # the refused run sealed nothing


def test_an_engine_with_the_new_key_lets_it_run_and_one_that_did_not_say_is_warned_of(
    tmp_path: Path,
) -> None:
    fill(tmp_path, OLD, 1)
    present(tmp_path, "kid2,kid1")
    env = env_for(tmp_path, f"{NEW},{OLD}")
    done = cli(env, "keys", "rotate")
    assert done.exit_code == 0, done.output
    assert "warning" not in done.stderr

    present_unknown = tmp_path / "unknown"
    present_unknown.mkdir()
    fill(present_unknown, OLD, 1)
    present(present_unknown, None)  # an engine of a version that did not record its keys
    warned = cli(env_for(present_unknown, f"{NEW},{OLD}"), "keys", "rotate")
    assert warned.exit_code == 0, warned.output
    assert "did not say which data keys it has" in warned.stderr
    assert "pid 4242" in warned.stderr


async def test_the_engine_records_its_key_ids_and_names_a_missing_key_in_a_503(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, data_keys=OLD, search_key=SEARCH_KEY)
    settings.destinations_dir.mkdir()
    [message_id] = await asyncio.to_thread(fill, tmp_path, OLD, 1)
    engine = Engine(settings)
    await engine.start()
    try:
        [me] = await engine.store.fresh_engines(datetime(2000, 1, 1, tzinfo=UTC))
        assert me.key_ids == ("kid1",)

        # Rotated behind its back (as an older `keys rotate` would have): it lacks kid2.
        async with await Store.open(settings.database_url, sealer=sealer_for(f"{NEW},{OLD}")) as s:
            await s.rotate_data_keys(actor="local:test")

        async with api_client(engine) as api:
            answer = await api.get(f"/api/v1/messages/{message_id}")
        assert answer.status_code == 503
        detail = answer.json()["detail"]
        assert "sealed with data key 'kid2'" in detail
        assert "restart it with that key in INTEGRATOR_DATA_KEYS" in detail
    finally:
        await engine.stop()


def test_an_engine_with_the_new_key_after_another_refuses_the_rotation(tmp_path: Path) -> None:
    # It has kid2, but seals with its first key, kid1: retiring kid1 would leave it sealing new
    # values with a retired key.
    fill(tmp_path, OLD, 2)
    before = to_seal(tmp_path)
    present(tmp_path, "kid1,kid2")
    env = env_for(tmp_path, f"{NEW},{OLD}")

    refused = cli(env, "keys", "rotate")
    assert refused.exit_code == 2, refused.output
    assert "does not have data key 'kid2' first, so it does not seal" in refused.stderr
    assert "pid 4242 on host engine-host-elsewhere" in refused.stderr
    assert "restart it with kid2 first" in refused.stderr
    assert "nothing was sealed" in refused.stderr
    assert "retired" not in refused.stdout

    async def forget_engine() -> dict[str, bool]:
        url = f"sqlite:///{tmp_path / 'store.db'}"
        async with await Store.open(url, sealer=sealer_for(f"{NEW},{OLD}")) as store:
            await store.remove_engine("e1")
            return await store.known_data_keys()

    assert asyncio.run(forget_engine())["kid1"] is True  # not retired
    assert to_seal(tmp_path) == before


async def test_an_engine_started_during_the_rotation_keeps_the_old_key_from_retirement(
    tmp_path: Path,
) -> None:
    await asyncio.to_thread(fill, tmp_path, OLD, 2)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with await Store.open(url, sealer=sealer_for(f"{NEW},{OLD}")) as store:
        registered: list[str] = []

        def progress(_handled: int) -> None:
            # The engine registers after the check at the start, while values are resealed.
            if not registered:
                registered.append("late")
                asyncio.get_running_loop().create_task(store.register_engine(engine_elsewhere()))

        report = await store.rotate_data_keys(
            actor="local:test",
            batch=1,
            progress=progress,
            holders=lambda: engines_not_sealing_with(store, "kid2"),
        )
        assert report.resealed > 0
        assert report.retired == ()
        assert [engine.id for engine in report.kept_for] == ["late"]
        assert (await store.known_data_keys())["kid1"] is True

        await store.remove_engine("late")
        again = await store.rotate_data_keys(
            actor="local:test", holders=lambda: engines_not_sealing_with(store, "kid2")
        )
        assert again.retired == ("kid1",)


async def test_an_engine_registering_after_the_retirement_of_its_key_is_refused(
    tmp_path: Path,
) -> None:
    # It opened the store (kid1 then in use) before the rotation retired kid1, and registers
    # after: it would seal new values with a retired key, which the operator was told may go.
    await asyncio.to_thread(fill, tmp_path, OLD, 1)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with await Store.open(url, sealer=sealer_for(f"{NEW},{OLD}")) as store:
        done = await store.rotate_data_keys(
            actor="local:test", holders=lambda: engines_not_sealing_with(store, "kid2")
        )
        assert done.retired == ("kid1",)
        with pytest.raises(DataKeyError, match=r"data key 'kid1', its first entry .* retired"):
            await store.register_engine(engine_elsewhere())
        assert await store.fresh_engines(datetime(2000, 1, 1, tzinfo=UTC)) == []
        await store.register_engine(engine_elsewhere("kid2,kid1"))  # the new key first: welcome


def test_a_command_sealing_with_a_key_a_running_engine_lacks_is_refused(tmp_path: Path) -> None:
    """``deadletter discard`` run with ``kid2,kid1`` beside an engine started with ``kid1``
    sealed the letter's error with kid2: the engine then answered 503 to every listing of
    that destination (an upgrade-day audit). ``keys rotate`` checked this; now every writer
    does, before it writes anything."""
    [message_id] = fill(tmp_path, OLD, 1)

    async def kill() -> None:
        url = f"sqlite:///{tmp_path / 'store.db'}"
        async with await Store.open(url, sealer=sealer_for(OLD)) as store:
            await store.set_status(message_id, "dead", last_error="AR from the receiver")

    asyncio.run(kill())
    present(tmp_path, "kid1")
    discard = ("deadletter", "discard", message_id, "--reason", "sent by fax")
    refused = cli(env_for(tmp_path, f"{NEW},{OLD}"), *discard)
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert (
        "INTEGRATOR_DATA_KEYS: this process would seal what it writes with data key 'kid2'" in said
    )
    assert (
        "1 running engine on this store was not started with (engine-host-elsewhere pid 4242): "
        "it could not read it" in said
    )
    assert "nothing was written" in said and NEW.split(":")[1] not in refused.output
    listed = cli(env_for(tmp_path, OLD), "deadletter", "list", "--json")
    assert [row["state"] for row in json.loads(listed.stdout)] == ["open"]  # not discarded

    done = cli(env_for(tmp_path, f"{OLD},{NEW}"), *discard)  # the engine's sealing key first
    assert done.exit_code == 0, done.output
