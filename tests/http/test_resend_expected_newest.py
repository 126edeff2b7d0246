"""``POST /api/v1/messages/{id}/resend`` with ``expected_newest_resend``: the resends the client
showed are still all there are, or nothing is sent (409 naming the newer one). Two clients
sending it at the same moment on "none seen" make one resend (the check is made where the
resend is recorded); a value that is no message id is refused, naming the field, not echoed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.engine import Engine
from tests.console.test_resend_race import both_at_the_write, delivered
from tests.http.support import api_client, engine_with_noord


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with engine_with_noord(tmp_path, f"sqlite:///{tmp_path}/store.db", 2599) as started:
        yield started


async def test_two_clients_on_none_seen_make_one_resend_and_the_other_is_told(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = await delivered(engine)
    url = f"/api/v1/messages/{original}/resend"
    body = {"reason": "the GP called", "expected_newest_resend": ""}
    async with api_client(engine) as sam, api_client(engine) as anna:
        both_at_the_write(monkeypatch, [engine.store])
        answers = await asyncio.gather(sam.post(url, json=body), anna.post(url, json=body))
        _, made = await engine.store.list_resends(original)
        [resent] = made
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        [told] = [a.json()["detail"] for a in answers if a.status_code == 409]
        assert (
            told == f"resent since as {resent.message_id}; not resent again (look at that "
            "resend first)"
        )

        # Seen now, in capitals without dashes as a person may copy it: resent again.
        seen = resent.message_id.upper().replace("-", "")
        again = await sam.post(url, json={**body, "expected_newest_resend": seen})
        assert again.status_code == 201, again.text
        stale = await anna.post(url, json={**body, "expected_newest_resend": resent.message_id})
        assert stale.status_code == 409, stale.text
    assert len((await engine.store.list_resends(original))[1]) == 2


async def test_an_expected_newest_resend_that_is_no_id_is_refused_by_its_field(
    engine: Engine,
) -> None:
    original = await delivered(engine)
    async with api_client(engine) as api:
        refused = await api.post(
            f"/api/v1/messages/{original}/resend",
            json={"reason": "x", "expected_newest_resend": "Jan van der Berg"},
        )
    assert refused.status_code == 422, refused.text
    assert "expected_newest_resend" in refused.text and "must be a message id" in refused.text
    assert "Jan van der Berg" not in refused.text
    assert (await engine.store.list_resends(original))[1] == []
