"""``/api/v1/rejected``: rejected input through the API, as ``integrator rejected list|show``:
the listing names the broken rules and no byte of the body; one body is audited first and
needs ``patient_data.read`` for all clusters."""

from __future__ import annotations

import json
from typing import Any

import httpx
from structlog.testing import capture_logs

from integrator.access.permissions import Grant, Role
from integrator.engine import Engine
from tests.http.support import api_client, token_for

BODY = {"event_id": "not-a-uuid", "type": "referral", "patient": {"bsn": "123456782"}}


async def _rejected(api: httpx.AsyncClient) -> str:
    answer = await api.post("/api/v1/events", json=BODY)
    assert answer.status_code == 422, answer.text
    rejected_id: str = answer.json()["rejected_id"]
    return rejected_id


async def test_the_listing_shows_rules_and_one_body_is_audited(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    rejected_id = await _rejected(api)
    listed = await api.get("/api/v1/rejected")
    assert listed.status_code == 200
    [row] = [r for r in listed.json() if r["id"] == rejected_id]
    assert row["source"] == "http" and row["problems"]
    assert "123456782" not in listed.text

    one = await api.get(f"/api/v1/rejected/{rejected_id[:8]}")
    assert one.status_code == 200, one.text
    assert json.loads(one.json()["body"]) == BODY
    views = [
        e
        for e in await engine.store.list_audit(limit=50)
        if e.action == "patient_data.view" and e.target == rejected_id
    ]
    assert len(views) == 1 and views[0].details["view"] == "rejected"
    assert views[0].actor.startswith("token:")
    # Who sent it: the same token, as the audit log names it, in the listing and in full.
    assert row["caller"] == one.json()["caller"] == views[0].actor

    missing = await api.get("/api/v1/rejected/00000000")
    assert missing.status_code == 404
    # It may have been there: rejected input is deleted whole after its period.
    assert "INTEGRATOR_RETAIN_REJECTED_DAYS" in missing.json()["detail"]


async def test_a_body_needs_patient_data_for_all_clusters(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    rejected_id = await _rejected(api)
    viewer = await token_for(engine, Grant(Role.VIEWER))
    async with api_client(engine, viewer) as as_viewer:
        assert (await as_viewer.get(f"/api/v1/rejected/{rejected_id}")).status_code == 403
    support_in_one = await token_for(engine, Grant(Role.RESEND, "CARD"))
    async with api_client(engine, support_in_one) as in_one_cluster:
        refused = await in_one_cluster.get(f"/api/v1/rejected/{rejected_id}")
        assert refused.status_code == 403
        assert "for all clusters" in refused.json()["detail"]


async def test_the_listing_takes_a_period_and_a_source_and_gives_its_total(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    over_http = await _rejected(api)
    over_amqp = await engine.store.reject_event(b"\xff not json", "amqp", [])

    async def listed(**terms: str | int) -> tuple[list[str], str]:
        answer = await api.get("/api/v1/rejected", params=terms)
        assert answer.status_code == 200, answer.text
        return [r["id"] for r in answer.json()], answer.headers["x-total-count"]

    assert await listed() == ([over_amqp, over_http], "2")
    assert await listed(since="1h") == ([over_amqp, over_http], "2")
    assert await listed(until="1h") == ([], "0")
    assert await listed(source="amqp", since="2d") == ([over_amqp], "1")
    assert await listed(source="demo") == ([], "0")
    assert await listed(limit=1) == ([over_amqp], "2")
    callers = {r["id"]: r["caller"] for r in (await api.get("/api/v1/rejected")).json()}
    assert callers[over_amqp] is None  # kept without one: null, not left out
    assert callers[over_http].startswith("token:")


async def test_a_term_that_cannot_be_used_is_a_422_without_its_value(
    api: httpx.AsyncClient,
) -> None:
    refused = await api.get("/api/v1/rejected", params={"source": "pigeon"})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("source: ")
    assert "http, cli, amqp, demo" in refused.text and "pigeon" not in refused.text
    refused = await api.get("/api/v1/rejected", params={"since": "123456782"})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("since: ") and "123456782" not in refused.text
    too_long = await api.get("/api/v1/rejected", params={"until": "9" * 65})
    assert too_long.status_code == 422


async def test_the_terms_and_the_total_are_documented_with_their_bounds(
    api: httpx.AsyncClient,
) -> None:
    document = (await api.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/rejected"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) >= {"since", "until", "source", "limit"}
    assert params["source"]["schema"]["enum"] == ["http", "cli", "amqp", "demo"]
    assert {"maxLength": 64} in [
        {"maxLength": s.get("maxLength")} for s in params["since"]["schema"]["anyOf"]
    ]
    assert "X-Total-Count" in operation["responses"]["200"]["headers"]
    assert "``caller``" in operation["description"]
    one = document["paths"]["/api/v1/rejected/{rejected_id}"]["get"]
    assert "``caller``" in one["description"]


# The audit's body: data sent as keys by a mapping bug upstream; the lower-case ones have the
# schemas' own snake_case shape.
DATA_IN_KEYS = ("van der Berg", "Dorpsstraat 12A", "1961-04-12", "jansen", "de_vries", "jan")


async def test_data_sent_as_keys_is_in_no_answer_log_or_listing(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    referral_data["patient"]["name"]["van der Berg"] = "Jan"
    referral_data["patient"]["address"]["Dorpsstraat 12A"] = "Zwolle"
    referral_data["patient"]["address"]["1961-04-12"] = "geboren"
    referral_data["jansen"] = "Jan"  # at the top
    referral_data["patient"]["name"]["de_vries"] = "Jan"  # nested
    referral_data["questions"][0]["jan"] = "Jansen"  # inside a list
    referral_data["bsn"] = "999990019"  # the schema's key at the wrong place: named
    referral_data["zd_numer"] = "ZD300000001"  # misspelt: said what it resembles
    with capture_logs() as logs:
        answer = await api.post("/api/v1/events", json=referral_data)
    assert answer.status_code == 422, answer.text
    errors = {(e["path"], e["rule"], e["message"]) for e in answer.json()["errors"]}
    assert errors == {
        ("patient.name.…", "unknown_field", "is not a known field"),
        ("patient.address.…", "unknown_field", "is not a known field"),
        ("…", "unknown_field", "is not a known field"),
        ("questions[0].…", "unknown_field", "is not a known field"),
        ("bsn", "unknown_field", "is not a field here; the schema has it at patient.bsn"),
        ("…", "unknown_field", "is not a known field; did you mean zd_number?"),
    }
    [line] = [e for e in logs if e["event"] == "event rejected"]
    assert "bsn" in line["fields"] and "questions[0].…" in line["fields"]
    rejected_id = answer.json()["rejected_id"]
    viewer = await token_for(engine, Grant(Role.VIEWER))  # no patient_data.read
    async with api_client(engine, viewer) as as_viewer:
        listed = await as_viewer.get("/api/v1/rejected")
    [row] = [r for r in listed.json() if r["id"] == rejected_id]
    assert "patient.name.…: unknown_field" in row["problems"]
    assert "questions[0].…: unknown_field" in row["problems"]
    one = await api.get(f"/api/v1/rejected/{rejected_id}")
    assert one.status_code == 200
    detail = {key: value for key, value in one.json().items() if key != "body"}
    assert "bsn: unknown_field" in detail["problems"]
    for said in (answer.text, str(logs), listed.text, json.dumps(detail)):
        for data in (*DATA_IN_KEYS, "zd_numer"):
            assert data not in said


async def test_rejected_input_kept_naming_data_as_a_key_is_listed_without_it(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    # Kept before keys were judged as they are now: the path as it was made then.
    kept = [
        {"path": "patient.name.van der Berg", "rule": "unknown_field", "message": "unknown"},
        {"path": "patient.name.jansen", "rule": "unknown_field", "message": "unknown"},
        {"path": "", "rule": "processing", "message": "ValueError"},
    ]
    rejected_id = await engine.store.reject_event(b"{}", "amqp", kept)
    listed = await api.get("/api/v1/rejected")
    [row] = [r for r in listed.json() if r["id"] == rejected_id]
    assert row["problems"] == [
        "patient.name.…: unknown_field",
        "patient.name.…: unknown_field",
        "$: processing",
    ]
    one = await api.get(f"/api/v1/rejected/{rejected_id}")
    assert [r["path"] for r in one.json()["reason"]] == ["patient.name.…", "patient.name.…", "$"]
    assert "van der Berg" not in listed.text + one.text
    assert "jansen" not in listed.text + one.text


async def test_its_times_are_written_as_every_other_answers_are(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """UTC with ``+00:00``: left to the encoder, rejected input alone ended in ``Z``."""
    rejected_id = await _rejected(api)
    [listed] = (await api.get("/api/v1/rejected")).json()
    [searched] = (await api.post("/api/v1/rejected/search", json={})).json()
    one = (await api.get(f"/api/v1/rejected/{rejected_id}")).json()
    for row in (listed, searched, one):
        assert row["received_at"].endswith("+00:00"), row["received_at"]


async def test_the_listing_words_each_rule_as_the_detail_does(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """docs/support.md (the API's table, `GET /api/v1/rejected`): each listed piece gives its
    broken rules with their `message` (`reason`), the words `GET /api/v1/rejected/{id}` has,
    so a script words them without a request per row; `problems` stays as clients read it.
    Read with `messages.read` alone (a viewer): the words hold no value from the input."""
    rejected_id = await _rejected(api)
    viewer = await token_for(engine, Grant(Role.VIEWER))
    async with api_client(engine, viewer) as as_viewer:
        listed = await as_viewer.get("/api/v1/rejected")
    searched = await api.post("/api/v1/rejected/search", json={})
    assert listed.status_code == searched.status_code == 200, listed.text
    [row] = [r for r in listed.json() if r["id"] == rejected_id]
    assert searched.json() == listed.json()
    one = (await api.get(f"/api/v1/rejected/{rejected_id}")).json()
    assert row["reason"] == one["reason"]
    assert row["reason"] and all(set(r) == {"path", "rule", "message"} for r in row["reason"])
    assert [f"{r['path']}: {r['rule']}" for r in row["reason"]] == row["problems"]
    assert "event_id: uuid_format" in row["problems"]
    for said in (r["message"] for r in row["reason"]):
        assert said and "not-a-uuid" not in said and "123456782" not in said
    assert "not-a-uuid" not in listed.text and "123456782" not in listed.text


async def test_a_rule_kept_without_its_message_is_listed_with_the_rules_own_sentence(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    """Input kept by an older engine may lack a rule's message or its code: listed all the
    same, with the sentence the rule has now, never a bare key error (a 500)."""
    from schemas.rules import message_for

    kept = [{"path": "event_id", "rule": "uuid_format"}, {"path": "$"}]
    rejected_id = await engine.store.reject_event(b"{}", "http", kept)
    listed = await api.get("/api/v1/rejected")
    assert listed.status_code == 200, listed.text
    [row] = [r for r in listed.json() if r["id"] == rejected_id]
    assert row["reason"] == [
        {"path": "event_id", "rule": "uuid_format", "message": message_for("uuid_format")},
        {"path": "$", "rule": "?", "message": message_for("?")},
    ]
    assert row["problems"] == ["event_id: uuid_format", "$: ?"]
