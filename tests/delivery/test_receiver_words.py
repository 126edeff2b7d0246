"""A receiver's words are kept with the attempt whatever they hold: a NUL in a negative ACK's
text, which PostgreSQL keeps in no text column, made the attempt unwritable; the recorder
tried it again every second, and every destination's delivery waited behind it for good."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integrator.catalog import build_catalog
from integrator.engine import Engine
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.delivery.support import DEST, TODAY, fast_destination, messages, submit
from tests.integrator.support import settings_for
from tests.services import scratch_database

pytestmark = pytest.mark.postgres


async def test_a_nul_in_a_negative_acks_text_is_kept_and_delivery_goes_on(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MisbehavingReceiver(["AE_nul"]) as receiver, scratch_database() as (_, url):
        catalog = build_catalog([(f"{DEST}.yaml", fast_destination(receiver.port))], today=TODAY)
        settings = settings_for(
            tmp_path, database_url=url, search_key="receiver-words-search-key-0123"
        )
        engine = Engine(settings, catalog=catalog)
        await engine.start()
        try:
            ids = await submit(engine, referral_data, 3)
            assert await engine.wait_settled(timeout=20)
            assert [m.status for m in await messages(engine, ids)] == ["delivered"] * 3
            first, then = await engine.store.list_attempts(ids[0])
            assert (first.outcome, first.ack_code, first.error) == (
                "retry",
                "AE",
                "ACK AE: bad\u2400value",
            )
            assert first.ack_bytes is not None and b"bad\x00value" in first.ack_bytes
            assert then.outcome == "delivered"
        finally:
            await engine.stop()
