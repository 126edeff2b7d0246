"""A key rotation's retirement and an engine's registration take turns.

Before, ``keys rotate`` asked which running engines still seal with an old key, then retired
the old keys: an engine that opened the store with the old key first and registered in between
ran on unseen, sealing new values with a key the operator had just been told may be removed.
"""

from __future__ import annotations

import asyncio
import base64
import os
from datetime import UTC, datetime

import pytest

from integrator.datakeys import sealer_for
from integrator.presence import engines_not_sealing_with
from integrator.store import EnginePresence
from integrator.store.errors import DataKeyError
from tests.store.conftest import Site
from tests.store.factories import engine_elsewhere, make_event, make_message

OLD, NEW = (f"{kid}:{base64.b64encode(os.urandom(32)).decode()}" for kid in ("kid1", "kid2"))


async def test_an_engine_registering_while_keys_are_retired_waits_and_is_then_refused(
    site: Site,
) -> None:
    async with await site.open(sealer=sealer_for(OLD)) as first:
        await first.accept_event(make_event(), [make_message()])
    async with (
        await site.open(sealer=sealer_for(f"{NEW},{OLD}")) as rotating,
        await site.open(sealer=sealer_for(f"{OLD},{NEW}")) as engines_store,
    ):
        registering: list[asyncio.Task[None]] = []

        async def holders() -> list[EnginePresence]:
            answer = await engines_not_sealing_with(rotating, "kid2")
            # Another engine's process registers now: between the look and the retirement.
            registering.append(
                asyncio.create_task(engines_store.register_engine(engine_elsewhere()))
            )
            await asyncio.sleep(0.5)
            assert not registering[0].done()  # it waits for the retirement's commit
            return answer

        done = await rotating.rotate_data_keys(actor="local:test", holders=holders)
        assert done.retired == ("kid1",)
        with pytest.raises(DataKeyError, match=r"data key 'kid1', its first entry .* retired"):
            await registering[0]
        assert await rotating.fresh_engines(datetime(2000, 1, 1, tzinfo=UTC)) == []
