"""An event submission refused before intake reads it (413, 415) is kept as rejected input.

Over the real app: each refusal still answers as before, and leaves exactly one rejected record
with its rule, the ``rejected`` count of ``integrator_events`` one up, and nothing else: no
event, no message. A body too large is not kept; a body not sent as JSON is, as it arrived. A
caller without a valid token leaves nothing (anybody could otherwise fill the store).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from integrator.access.permissions import Grant, Role
from integrator.engine import Engine
from integrator.http.app import EngineApp
from integrator.http.limits import EVENT_BODY_LIMIT, MIB, too_large
from integrator.http.media import NOT_JSON
from integrator.store import MessageFilter
from integrator.store.records import EventFilter, RejectedEventRecord
from tests.http.support import api_client, bearer, token_for
from tests.http.test_limits import CHUNK, call, chunks, http_scope

EVENTS = "/api/v1/events"


def rejected_count(engine: Engine) -> float:
    value = engine.metrics.registry.get_sample_value(
        "integrator_events_total", {"outcome": "rejected"}
    )
    return value or 0.0


async def kept(engine: Engine) -> list[RejectedEventRecord]:
    """Every rejected record, in full."""
    records = []
    for summary in await engine.store.list_rejected(limit=100):
        record = await engine.store.get_rejected(summary.id)
        assert record is not None
        records.append(record)
    return records


async def assert_nothing_else(engine: Engine) -> None:
    assert await engine.store.list_events(EventFilter(), limit=10) == []
    assert await engine.store.list_messages(MessageFilter(), limit=10) == []


async def test_a_declared_size_above_the_limit_is_kept_without_its_body(
    engine: Engine, app: EngineApp
) -> None:
    token = await token_for(engine, Grant(Role.INTAKE))
    size = EVENT_BODY_LIMIT + 1
    headers = [(b"content-length", str(size).encode()), *bearer_header(token)]
    sent, asked = await call(app, http_scope(EVENTS, headers), [CHUNK])
    assert asked == 0  # still not a byte read
    assert sent[0]["status"] == 413
    [record] = await kept(engine)
    assert json.loads(b"".join(m.get("body", b"") for m in sent[1:])) == {
        "detail": too_large(EVENT_BODY_LIMIT),
        "rejected_id": record.id,
    }
    assert (b"x-integrator-rejected-id", record.id.encode()) in sent[0]["headers"]
    assert record.source == "http" and record.raw == b""
    assert record.reason == [
        {
            "path": "$",
            "rule": "body_too_large",
            "message": f"is declared as {size} bytes, more than the {EVENT_BODY_LIMIT} bytes "
            "this route accepts; the body was not read or kept",
        }
    ]
    assert rejected_count(engine) == 1
    await assert_nothing_else(engine)


async def test_a_chunked_body_cut_off_is_kept_without_its_body(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    consumed = [0]
    response = await api.post(
        EVENTS,
        content=chunks(EVENT_BODY_LIMIT + 2 * MIB, consumed),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    [record] = await kept(engine)
    # Kept before the answer, which names it (it was kept after, and named nothing).
    assert response.json() == {"detail": too_large(EVENT_BODY_LIMIT), "rejected_id": record.id}
    assert response.headers["x-integrator-rejected-id"] == record.id
    assert record.raw == b""
    [reason] = record.reason
    assert reason["rule"] == "body_too_large" and reason["path"] == "$"
    seen = int(reason["message"].split("cut off after ")[1].split(" ")[0])
    assert EVENT_BODY_LIMIT < seen <= EVENT_BODY_LIMIT + len(CHUNK)
    assert reason["message"] == (
        f"passed the {EVENT_BODY_LIMIT} bytes this route accepts and was cut off after "
        f"{seen} bytes; the body was not kept"
    )
    assert rejected_count(engine) == 1
    await assert_nothing_else(engine)


async def test_a_body_not_sent_as_json_is_kept_as_it_arrived(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    body = json.dumps(referral_data).encode()
    response = await api.post(
        EVENTS, content=body, headers={"content-type": "text/plain; charset=utf-8"}
    )
    assert response.status_code == 415
    [record] = await kept(engine)
    assert response.json() == {"detail": NOT_JSON, "rejected_id": record.id}
    assert response.headers["x-integrator-rejected-id"] == record.id
    assert record.raw == body
    assert record.reason == [
        {
            "path": "$",
            "rule": "media_type",
            "message": "was sent as text/plain, not as JSON: an event needs "
            "'Content-Type: application/json'",
        }
    ]
    assert record.zd_number == referral_data["zd_number"]  # found by it, as other rejects
    assert rejected_count(engine) == 1
    await assert_nothing_else(engine)


async def test_a_content_type_that_is_no_media_type_is_not_repeated(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    response = await api.post(EVENTS, content=b"{}", headers={"content-type": "999990019 <script>"})
    assert response.status_code == 415
    [record] = await kept(engine)
    assert "999990019" not in json.dumps(record.reason)
    assert record.reason[0]["message"].startswith("was sent without a readable content type")


async def test_a_valid_event_sent_with_a_query_parameter_is_kept_as_it_arrived(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """A proxy's cache-buster or a client's ``?dry_run=true`` on a valid referral: the 422
    names the parameter, and the referral is kept for support to find by its ZD number, as
    one sent as text is; a parameter given twice the same way. Nothing is accepted."""
    body = json.dumps(referral_data).encode()
    json_body = {"content-type": "application/json"}
    query = await api.post(EVENTS, params={"dry_run": "true"}, content=body, headers=json_body)
    assert query.status_code == 422
    assert query.json()["detail"][0]["loc"] == ["query", "dry_run"]
    twice = await api.post(EVENTS + "?x=1&x=2", content=body, headers=json_body)
    assert twice.status_code == 422
    first, second = sorted(await kept(engine), key=lambda r: r.received_at)
    assert first.raw == second.raw == body
    assert first.zd_number == referral_data["zd_number"]  # found by it, as other rejects
    assert [first.reason[0]["rule"], second.reason[0]["rule"]] == ["request", "request"]
    assert first.reason[0]["message"].startswith("was sent with query parameters, which an ")
    assert "dry_run" not in json.dumps(first.reason)  # the sender's text is not kept
    assert rejected_count(engine) == 2
    await assert_nothing_else(engine)


async def test_other_routes_refusals_leave_no_record(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    too_big = await api.post(
        "/api/v1/messages/search",
        content=b"{" + b" " * MIB + b"}",
        headers={"content-type": "application/json"},
    )
    assert too_big.status_code == 413
    plain = await api.post(
        "/api/v1/messages/search", content=b"{}", headers={"content-type": "text/plain"}
    )
    assert plain.status_code == 415
    assert await kept(engine) == []
    assert rejected_count(engine) == 0


async def test_a_caller_who_may_not_submit_leaves_nothing(engine: Engine, app: EngineApp) -> None:
    oversized = [(b"content-length", str(EVENT_BODY_LIMIT + 1).encode())]
    viewer = await token_for(engine, Grant(Role.VIEWER))
    for headers in (
        oversized,  # no token
        [*oversized, (b"authorization", b"Bearer itg_" + b"x" * 43)],  # no such token
        [*oversized, *bearer_header(viewer)],  # a token without the intake role
    ):
        sent, asked = await call(app, http_scope(EVENTS, headers), [CHUNK])
        assert sent[0]["status"] == 413 and asked == 0  # answered as before
    async with anonymous(app) as client:
        plain = await client.post(EVENTS, content=b"{}", headers={"content-type": "text/plain"})
        assert plain.status_code == 401
        consumed = [0]
        chunked = await client.post(
            EVENTS,
            content=chunks(EVENT_BODY_LIMIT + MIB, consumed),
            headers={"content-type": "application/json"},
        )
        assert chunked.status_code == 401
    async with api_client(engine, viewer, app=app) as as_viewer:
        plain = await as_viewer.post(EVENTS, content=b"{}", headers={"content-type": "text/plain"})
        assert plain.status_code == 403
    assert await kept(engine) == []
    assert rejected_count(engine) == 0


def bearer_header(token: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", bearer(token)["authorization"].encode())]


def anonymous(app: EngineApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_each_refusal_is_kept_with_the_token_that_sent_it_not_a_name_it_gives(
    engine: Engine, app: EngineApp, referral_data: dict[str, Any]
) -> None:
    """Support must know which upstream system to call: every refused submission records the
    authenticated token as the audit log names it, whatever the body or a header claims."""
    token = await token_for(engine, Grant(Role.INTAKE), name="gp-noord")
    claims = {"x-caller": "token:someone-else", "from": "token:someone-else"}
    broken = dict(referral_data, event_id="not-a-uuid", caller="token:someone-else")
    async with api_client(engine, token, app=app) as client:
        client.headers.update(claims)
        refused = await client.post(EVENTS, json=broken)
        assert refused.status_code == 422
        not_json = await client.post(EVENTS, content=b"{}", headers={"content-type": "text/plain"})
        assert not_json.status_code == 415
        cut_off = await client.post(
            EVENTS,
            content=chunks(EVENT_BODY_LIMIT + MIB, [0]),
            headers={"content-type": "application/json"},
        )
        assert cut_off.status_code == 413
    declared = [(b"content-length", str(EVENT_BODY_LIMIT + 1).encode()), *bearer_header(token)]
    sent, _ = await call(
        app, http_scope(EVENTS, [*declared, (b"x-caller", b"token:someone-else")]), [CHUNK]
    )
    assert sent[0]["status"] == 413

    records = await kept(engine)
    assert sorted(r.reason[0]["rule"] for r in records) == [
        "body_too_large",
        "body_too_large",
        "media_type",
        "uuid_format",
    ]
    # The name the access layer gives the token, which the audit log records as its actor.
    identity = await engine.access.authenticate_token(token)
    assert identity is not None and identity.display == "token:gp-noord"
    assert {r.caller for r in records} == {identity.display}
    await assert_nothing_else(engine)
