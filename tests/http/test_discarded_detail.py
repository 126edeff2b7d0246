"""``GET /api/v1/messages/{id}`` of a dead letter support discarded says who discarded it, when
and why (``discarded``), as ``messages show`` and the console's message page do.

Its status is ``cancelled``, and that was all an API client learnt: a discard could not be
told from another end, nor whom to ask about it, without the audit trail (the admin's).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.presenters import iso_time
from tests.http.support import api_client, token_for
from tests.integrator.support import destination, settings_for
from tests.resend.test_api_resend_rules import submitted

NOORD = "ziekenhuis-noord"


async def test_the_detail_says_who_discarded_a_dead_letter_when_and_why(
    tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    async with MllpReceiver() as receiver:
        config = destination(NOORD, receiver.port, providers=[NOORD])
        catalog = build_catalog([(f"{NOORD}.yaml", config)], today=date(2026, 11, 27))
        engine = Engine(settings_for(tmp_path), catalog=catalog)
        await engine.start()
        try:
            delivered = await submitted(engine, referral_data, "ZD800000201")
            dead = await submitted(engine, referral_data, "ZD800000202")
            await engine.store.set_status(dead, "dead")
            dying = await engine.store.get_message(dead)
            assert dying is not None
            support = await token_for(engine, Grant(Role.RESEND), name="support")
            async with api_client(engine, support) as api:
                done = await api.post(
                    f"/api/v1/deadletters/{dead}/discard",
                    json={"reason": "GP: referral withdrawn"},
                )
                assert done.status_code == 200, done.text
                gone = await api.get(f"/api/v1/messages/{dead}")
                other = await api.get(f"/api/v1/messages/{delivered}")
            closed = await engine.store.get_message(dead)
            assert closed is not None
        finally:
            await engine.stop()
    assert gone.status_code == 200, gone.text
    detail = gone.json()
    assert detail["status"] == "cancelled"
    assert detail["discarded"] == {
        "by": "token:support",  # who discarded it: the identity the API authenticated
        "at": iso_time(closed.updated_at),  # the discard, its last change
        "reason": "GP: referral withdrawn",
        "died_at": iso_time(dying.updated_at),  # the discard overwrote it on the message
    }
    assert detail["discarded"]["at"] == detail["updated_at"]  # in the detail's own zone
    assert other.status_code == 200, other.text
    assert other.json()["status"] == "delivered"
    assert other.json()["discarded"] is None
