"""What the API's resend and discard routes answer to a value they refuse: the field and the
rule, never the value (``integrator.http.errors``: a BSN or a name typed into the wrong field
must not come back in an answer that ends up in browser histories, proxies and tickets)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import integrator.message_service as message_service
from deadletter import select_for_resend
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from tests.http.support import api_client
from tests.resend.test_api_resend_rules import NOORD, ZUID, start, submitted

PATIENT_LIKE = ("999990019", "Jan van der Berg", "1970-01-31")
"""Values that may be a BSN, a name, a date of birth: sent as ids, targets and modes."""


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with MllpReceiver() as noord, MllpReceiver() as zuid:
        started = await start(tmp_path, noord.port, zuid.port)
        try:
            yield started
        finally:
            await started.stop()


def _without(answer: httpx.Response, *values: str) -> None:
    for value in values:
        assert value not in answer.text, answer.text


async def _audit_size(engine: Engine) -> int:
    return len(await engine.store.list_audit(limit=10_000))


async def test_an_unknown_message_id_is_named_as_the_field_not_repeated(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    known = await submitted(engine, referral_data, "ZD700000101")
    async with api_client(engine) as api:
        for typed in PATIENT_LIKE:
            for dry_run in (True, False):
                body = {"reason": "x", "message_ids": [known, typed], "dry_run": dry_run}
                answer = await api.post("/api/v1/resend", json=body)
                assert answer.status_code == 404, answer.text
                assert answer.json() == {"detail": "message_ids: no message has one of these ids"}
                _without(answer, typed)
    assert (await engine.store.list_resends(known))[1] == []


async def test_a_target_that_is_no_destination_is_named_as_to_not_repeated(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    message_id = await submitted(engine, referral_data, "ZD700000102")
    async with api_client(engine) as api:
        before = await _audit_size(engine)  # after the token's own entry
        for typed in (*PATIENT_LIKE, "ziekenhuis-west"):
            for url, body in (
                (f"/api/v1/messages/{message_id}/resend", {"reason": "x"}),
                ("/api/v1/resend", {"reason": "x", "message_ids": [message_id]}),
                ("/api/v1/resend", {"reason": "x", "message_ids": [message_id], "dry_run": True}),
            ):
                answer = await api.post(url, json={**body, "to": typed})
                assert answer.status_code == 422, answer.text
                assert answer.json() == {"detail": "to: no configured destination has this id"}
                _without(answer, typed)
    assert (await engine.store.list_resends(message_id))[1] == []
    assert await _audit_size(engine) == before


async def test_original_to_another_destination_says_the_field_in_the_apis_words(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    """``mode``, the body's field, not the command line's ``--mode``; neither the message nor
    the destinations sent are repeated."""
    message_id = await submitted(engine, referral_data, "ZD700000103")
    async with api_client(engine) as api:
        for url, body in (
            (f"/api/v1/messages/{message_id}/resend", {"reason": "x"}),
            ("/api/v1/resend", {"reason": "x", "message_ids": [message_id], "dry_run": True}),
        ):
            answer = await api.post(url, json={**body, "mode": "original", "to": ZUID})
            assert answer.status_code == 422, answer.text
            assert answer.json() == {
                "detail": "mode: the stored bytes were made for another destination (MSH-5/6); "
                "use mode remap"
            }
            _without(answer, "--mode", ZUID, message_id)


async def test_a_reason_of_1000_characters_is_taken_and_one_of_1001_refused(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    """The same bound as the console's forms and the ``X-Integrator-Reason`` header: refused
    naming the field and the bound, without the reason, and nothing is resent, discarded or
    audited."""
    message_id = await submitted(engine, referral_data, "ZD700000104")
    dead = await submitted(engine, referral_data, "ZD700000105")
    await engine.store.set_status(dead, "dead")
    too_long = "Jan van der Berg " + "x" * (1001 - len("Jan van der Berg "))
    async with api_client(engine) as api:
        before = await _audit_size(engine)  # after the token's own entry
        for url, body in (
            (f"/api/v1/messages/{message_id}/resend", {}),
            ("/api/v1/resend", {"message_ids": [message_id]}),
            ("/api/v1/resend", {"message_ids": [message_id], "dry_run": True}),
            (f"/api/v1/deadletters/{dead}/discard", {}),
            (f"/api/v1/deadletters/{dead}/discard?dry_run=true", {}),
        ):
            refused = await api.post(url, json={**body, "reason": too_long})
            assert refused.status_code == 422, (url, refused.text)
            [error] = refused.json()["detail"]
            assert error["loc"] == ["body", "reason"] and error["type"] == "string_too_long"
            assert error["msg"] == "String should have at most 1000 characters"
            _without(refused, "Jan", "xxxx")
        assert (await engine.store.list_resends(message_id))[1] == []
        assert (await engine.store.get_message(dead)).status == "dead"  # type: ignore[union-attr]
        assert await _audit_size(engine) == before

        reason = "y" * 1000
        one = await api.post(f"/api/v1/messages/{message_id}/resend", json={"reason": reason})
        assert one.status_code == 201, one.text
        dry = await api.post(
            "/api/v1/resend", json={"reason": reason, "message_ids": [message_id], "dry_run": True}
        )
        assert dry.status_code == 200, dry.text
        discarded = await api.post(f"/api/v1/deadletters/{dead}/discard", json={"reason": reason})
        assert discarded.status_code == 200, discarded.text
    assert (await engine.store.get_message(dead)).status == "cancelled"  # type: ignore[union-attr]


async def test_a_blank_reason_is_refused_naming_the_field_on_every_route(
    engine: Engine, referral_data: dict[str, Any]
) -> None:
    """``{"detail": "<field>: <rule>"}``, as every other route's refusal of a field: the resend
    routes said the rule alone, so a client could not tell which field to mend."""
    message_id = await submitted(engine, referral_data, "ZD700000106")
    dead = await submitted(engine, referral_data, "ZD700000107")
    await engine.store.set_status(dead, "dead")
    async with api_client(engine) as api:
        before = await _audit_size(engine)
        for url, body in (
            (f"/api/v1/messages/{message_id}/resend", {}),
            ("/api/v1/resend", {"message_ids": [message_id]}),
            ("/api/v1/resend", {"message_ids": [message_id], "dry_run": True}),
            (f"/api/v1/deadletters/{dead}/discard", {}),
        ):
            refused = await api.post(url, json={**body, "reason": "  "})
            assert refused.status_code == 422, (url, refused.text)
            assert refused.json() == {
                "detail": "reason: a reason is required (it goes into the audit log)"
            }, url
        assert (await engine.store.list_resends(message_id))[1] == []
        assert await _audit_size(engine) == before


async def test_a_selection_refused_as_a_whole_names_the_bodys_terms_not_options(
    engine: Engine, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No selection, or one larger than a resend takes: the answer names ``message_ids`` and
    the filter's ``zd_number``, ``since``..., not the command line's ``--zd``, ``--since``."""
    for zd_number in ("ZD700000106", "ZD700000107"):
        await submitted(engine, referral_data, zd_number)
    async with api_client(engine) as api:
        for dry_run in (True, False):
            answer = await api.post("/api/v1/resend", json={"reason": "x", "dry_run": dry_run})
            assert answer.status_code == 422, answer.text
            assert answer.json() == {
                "detail": "say which messages: message_ids, or at least one of zd_number, "
                "control_id, event_id, destination, status, version, event_type, since, until"
            }
        # One resend takes 100,000; here the same refusal at 1, through the route's own call.
        monkeypatch.setattr(
            message_service, "select_for_resend", functools.partial(select_for_resend, limit=1)
        )
        for dry_run in (True, False):
            body = {"reason": "x", "filter": {"destination": NOORD}, "dry_run": dry_run}
            answer = await api.post("/api/v1/resend", json=body)
            assert answer.status_code == 422, answer.text
            assert answer.json() == {
                "detail": "the selection matches more than 1 messages, the most one resend "
                "takes; narrow it (since/until, destination, status) and resend in parts"
            }
    assert [a.action for a in await engine.store.list_audit()] == ["token.create"]
