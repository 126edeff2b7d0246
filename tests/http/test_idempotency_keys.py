"""``Idempotency-Key`` on the API's resends and routings: a client whose request timed out
repeats it with the same key and gets the first answer, and the receiver gets the message once
(``integrator.idempotency``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from integrator import idempotency
from integrator.engine import Engine
from integrator.http.deps import NOTE
from integrator.search import NEVER_SENDING
from integrator.store import AuditFilter, Store
from integrator.store.errors import StoreUnavailable
from tests.http.conftest import BSN, submit
from tests.http.support import api_client, token_for

KEY = {"idempotency-key": "3f1c9a52-0b7e-4d2a-9a55-7c1f0e6b2d11"}


async def _messages(api: httpx.AsyncClient) -> list[str]:
    found = await api.post("/api/v1/messages/search", json={"bsn": BSN})
    assert found.status_code == 200, found.text
    return sorted(m["id"] for m in found.json())


async def _resends(engine: Engine) -> int:
    return len(await engine.store.list_audit(AuditFilter(action="message.resend"), limit=100))


async def test_a_resend_repeated_with_its_key_answers_the_first_and_resends_once(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    original = await submit(engine, referral_data)
    url = f"/api/v1/messages/{original}/resend"
    first = await api.post(url, json={"reason": "lost"}, headers=KEY)
    assert first.status_code == 201, first.text
    assert "idempotency-replayed" not in first.headers
    after_first = await _messages(api)
    assert len(after_first) == 2

    again = await api.post(url, json={"reason": "lost"}, headers=KEY)
    assert again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
    assert await _messages(api) == after_first  # nothing resent again
    assert await _resends(engine) == 1

    # The same key with another body: refused, naming the rule; nothing resent.
    other = await api.post(url, json={"reason": "lost again"}, headers=KEY)
    assert other.status_code == 422, other.text
    assert other.json()["detail"].startswith("Idempotency-Key: this key was used for another")
    assert await _messages(api) == after_first

    # Without a key, a resend is made every time, as support staff resend on purpose.
    for _ in range(2):
        assert (await api.post(url, json={"reason": "on purpose"})).status_code == 201
    assert len(await _messages(api)) == 4 and await _resends(engine) == 3


async def test_a_refused_resend_keeps_no_answer_so_its_repeat_is_judged_afresh(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    unknown = await api.post(
        "/api/v1/messages/no-such-id/resend", json={"reason": "x"}, headers=KEY
    )
    assert unknown.status_code == 404, unknown.text
    original = await submit(engine, referral_data)
    # The key was released: the same key may now be used for this (other) request.
    done = await api.post(f"/api/v1/messages/{original}/resend", json={"reason": "x"}, headers=KEY)
    assert done.status_code == 201, done.text


async def test_two_resends_with_one_key_at_once_resend_once(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    original = await submit(engine, referral_data)
    url = f"/api/v1/messages/{original}/resend"
    answers = await asyncio.gather(
        *(api.post(url, json={"reason": "lost"}, headers=KEY) for _ in range(2))
    )
    done = [a for a in answers if a.status_code == 201]
    waiting = [a for a in answers if a.status_code == 409]
    assert len(done) + len(waiting) == 2 and done, [a.text for a in answers]
    assert all(a.json() == done[0].json() for a in done)
    assert all("still in progress" in a.json()["detail"] for a in waiting)
    assert len(await _messages(api)) == 2 and await _resends(engine) == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "two words", 'quoted"', "bsn=" + BSN + "\u00e9"])
async def test_a_malformed_key_is_refused_naming_the_header_and_nothing_is_resent(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any], key: str
) -> None:
    original = await submit(engine, referral_data)
    refused = await api.post(
        f"/api/v1/messages/{original}/resend",
        json={"reason": "lost"},
        headers={b"idempotency-key": key.encode()},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("Idempotency-Key: must be 1 to 200 characters")
    assert BSN not in refused.text  # the key is not echoed
    assert await _messages(api) == [original] and await _resends(engine) == 0


async def test_a_batch_resend_and_a_routing_repeated_with_their_key_start_one_job(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    original = await submit(engine, referral_data)
    batch = {"reason": "lost", "message_ids": [original]}
    first = await api.post("/api/v1/resend", json=batch, headers=KEY)
    assert first.status_code == 202, first.text
    again = await api.post("/api/v1/resend", json=batch, headers=KEY)
    assert (again.status_code, again.json()) == (202, first.json())
    assert again.headers["idempotency-replayed"] == "true"

    [event_id] = {e["id"] for e in (await api.get("/api/v1/events")).json()}
    route = {"reason": "again", "event_ids": [event_id], "dry_run": True}
    routed = await api.post("/api/v1/events/route", json=route, headers=KEY)
    # The same key for another route is another request: refused.
    assert routed.status_code == 422, routed.text
    key = {"idempotency-key": "route-1"}
    routed = await api.post("/api/v1/events/route", json=route, headers=key)
    assert routed.status_code == 200, routed.text
    repeated = await api.post("/api/v1/events/route", json=route, headers=key)
    assert (repeated.status_code, repeated.json()) == (200, routed.json())
    assert repeated.headers["idempotency-replayed"] == "true"


async def test_a_claim_left_unfinished_by_a_stopped_engine_is_abandoned_after_the_bound(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    """An engine that stopped mid-request never finished nor released its claim: a repeat
    within ``ABANDONED_AFTER`` is refused as in progress, one after it is done, not refused for
    the key's whole day."""
    token = await token_for(engine)
    identity = await engine.access.authenticate_token(token)
    assert identity is not None
    original = await submit(engine, referral_data)
    route = f"POST /api/v1/messages/{original}/resend"
    body: dict[str, Any] = {"reason": "lost"}
    key = KEY["idempotency-key"]

    async def claim(ago: timedelta) -> None:
        then = engine.clock.now() - ago
        claimed = await engine.store.claim_idempotency_key(
            idempotency.caller_of(identity),
            key,
            request_hash=idempotency.request_hash(route, {**body, "mode": None, "to": None}),
            now=then,
            expires_at=then + idempotency.RETENTION,
            abandoned_before=then - idempotency.ABANDONED_AFTER,
        )
        assert claimed is None

    async with api_client(engine, token) as api:
        url = f"/api/v1/messages/{original}/resend"
        await claim(timedelta(minutes=1))
        busy = await api.post(url, json=body, headers=KEY)
        assert busy.status_code == 409, busy.text
        await engine.store.release_idempotency_key(idempotency.caller_of(identity), key)

        await claim(idempotency.ABANDONED_AFTER)
        done = await api.post(url, json=body, headers=KEY)
        assert done.status_code == 201, done.text
        again = await api.post(url, json=body, headers=KEY)
        assert again.headers["idempotency-replayed"] == "true" and again.json() == done.json()
    assert await _resends(engine) == 1


async def test_a_request_whose_answer_the_store_could_not_keep_answers_what_it_did(
    engine: Engine,
    api: httpx.AsyncClient,
    referral_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The resend was made; the store failing to keep its answer must not answer 503 (which
    tells the caller to repeat it, resending again)."""
    original = await submit(engine, referral_data)

    async def fails(self: Store, *args: object, **kwargs: object) -> None:
        raise StoreUnavailable("keep the answer of an idempotency key: connection lost")

    monkeypatch.setattr(Store, "finish_idempotency_key", fails)
    url = f"/api/v1/messages/{original}/resend"
    first = await api.post(url, json={"reason": "lost"}, headers=KEY)
    assert first.status_code == 201, first.text
    assert first.json()["message_id"] in await _messages(api)
    # Its claim stays unfinished until it counts as abandoned: a repeat now resends nothing.
    again = await api.post(url, json={"reason": "lost"}, headers=KEY)
    assert again.status_code == 409, again.text
    assert await _resends(engine) == 1


async def test_a_refused_request_whose_key_the_store_could_not_release_answers_its_refusal(
    engine: Engine, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fails(self: Store, *args: object, **kwargs: object) -> None:
        raise StoreUnavailable("release an idempotency key: connection lost")

    monkeypatch.setattr(Store, "release_idempotency_key", fails)
    unknown = await api.post(
        "/api/v1/messages/no-such-id/resend", json={"reason": "x"}, headers=KEY
    )
    assert unknown.status_code == 404, unknown.text


async def test_a_replayed_batch_resend_carries_the_first_answers_note(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    body = {"filter": {"status": "sending"}, "reason": "receiver lost them"}
    for dry_run, status in ((True, 200), (False, 202)):
        key = {"idempotency-key": f"note-{dry_run}"}
        first = await api.post("/api/v1/resend", json={**body, "dry_run": dry_run}, headers=key)
        assert first.status_code == status, first.text
        assert first.headers[NOTE] == NEVER_SENDING
        again = await api.post("/api/v1/resend", json={**body, "dry_run": dry_run}, headers=key)
        assert (again.status_code, again.json()) == (status, first.json())
        assert again.headers["idempotency-replayed"] == "true"
        assert again.headers[NOTE] == NEVER_SENDING


async def test_a_keyed_resend_cut_off_after_its_commit_is_not_done_again_by_its_repeat(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """The engine's stop cancels the requests still open: a resend committed and waiting to be
    handed to delivery released its key, and the client's repeat (it got no answer) resent
    the message a second time. Its claim is left now: the repeat is refused as in progress."""
    original = await submit(engine, referral_data)
    handing = asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> None:  # a broker slow to confirm, say
        handing.set()
        await asyncio.Event().wait()

    url = f"/api/v1/messages/{original}/resend"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "publish", slow)
        first = asyncio.create_task(api.post(url, json={"reason": "lost"}, headers=KEY))
        await asyncio.wait_for(handing.wait(), 10)
        first.cancel()  # cut off: the client gets no answer
        await asyncio.gather(first, return_exceptions=True)
    assert await _resends(engine) == 1  # committed before it was handed on

    again = await api.post(url, json={"reason": "lost"}, headers=KEY)
    assert again.status_code == 409, again.text
    assert await _resends(engine) == 1
