"""A BSN as the ``provider`` of an API listing in a URL is refused, as the console refuses it.

Upstream may write a BSN in an event's ``provider.id``, so a caller may copy one into
``?provider=``, where proxies and access logs keep it. ``GET /api/v1/events``,
``GET /api/v1/events.csv`` and ``GET /api/v1/rejected`` refuse it (and ``POST
/api/v1/events/search`` and ``POST /api/v1/rejected/search`` in their bodies) with a 422 that
names the term and the rule (``search.misplaced_bsn``), never the value, and export or audit
nothing; a provider id that holds no BSN still lists.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import httpx
import pytest

from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.store.records import AuditFilter
from tests.http.conftest import BSN

REFUSAL = "provider: this looks like a BSN: search by BSN instead"
LISTINGS = ("/api/v1/events", "/api/v1/events.csv", "/api/v1/rejected")
SPELLINGS = (BSN, "999 990 019", "999.990.019", f"lab-{BSN}")


@pytest.mark.parametrize("path", LISTINGS)
@pytest.mark.parametrize("typed", SPELLINGS)
async def test_a_bsn_as_provider_in_the_url_is_refused_naming_the_term(
    engine: Engine, api: httpx.AsyncClient, path: str, typed: str
) -> None:
    answer = await api.get(path, params={"provider": typed})
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"detail": REFUSAL}
    assert BSN not in answer.text and "990" not in answer.text
    assert await engine.store.list_audit(AuditFilter(action="events.export")) == []


@pytest.mark.parametrize("path", LISTINGS)
async def test_a_provider_without_a_bsn_still_lists(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any], path: str
) -> None:
    data = copy.deepcopy(referral_data)
    data["event_id"] = str(uuid.uuid4())
    data["provider"]["id"] = "Pietje Puk 1980-01-01"  # served by no destination: unrouted
    assert (await engine.intake.submit(json.dumps(data), source="http")).messages == ()
    answer = await api.get(path, params={"provider": "Pietje Puk 1980-01-01"})
    assert answer.status_code == 200, answer.text
    if path == "/api/v1/events":
        assert [e["id"] for e in answer.json()] == [data["event_id"]]


SEARCHES = ("/api/v1/events/search", "/api/v1/rejected/search")


@pytest.mark.parametrize("path", SEARCHES)
@pytest.mark.parametrize("typed", SPELLINGS)
async def test_a_bsn_as_provider_in_a_search_s_body_is_refused_naming_the_term(
    engine: Engine, api: httpx.AsyncClient, path: str, typed: str
) -> None:
    """Not in a URL, but no place for a BSN either: it belongs in ``bsn``, where it is hashed
    and the search audited as a view of patient data; as ``provider`` it was neither. The
    rejected input's search took it until it was refused as the events' search refuses it."""
    answer = await api.post(path, json={"provider": typed})
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"detail": REFUSAL}
    assert BSN not in answer.text and "990" not in answer.text
    assert await engine.store.list_audit(AuditFilter(action="patient_data.view")) == []
    assert await engine.store.list_audit(AuditFilter(action="rejected.search")) == []


async def test_a_provider_without_a_bsn_still_searches_in_a_body(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    data = copy.deepcopy(referral_data)
    data["event_id"] = str(uuid.uuid4())
    data["provider"]["id"] = "Pietje Puk 1980-01-01"
    assert (await engine.intake.submit(json.dumps(data), source="http")).messages == ()
    answer = await api.post("/api/v1/events/search", json={"provider": "Pietje Puk 1980-01-01"})
    assert answer.status_code == 200, answer.text
    assert [e["id"] for e in answer.json()] == [data["event_id"]]


async def test_a_provider_without_a_bsn_still_searches_rejected_input_in_a_body(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    data = copy.deepcopy(referral_data)
    data["event_id"] = str(uuid.uuid4())
    data["provider"]["id"] = "Pietje Puk 1980-01-01"
    del data["patient"]  # refused, and kept as rejected input with its provider id
    with pytest.raises(InvalidEvent) as refused:
        await engine.intake.submit(json.dumps(data), source="http")
    assert refused.value.rejected_id is not None
    answer = await api.post("/api/v1/rejected/search", json={"provider": "Pietje Puk 1980-01-01"})
    assert answer.status_code == 200, answer.text
    assert [r["provider_id"] for r in answer.json()] == ["Pietje Puk 1980-01-01"]


MESSAGE_LISTINGS = ("/api/v1/messages", "/api/v1/messages.csv")


@pytest.mark.parametrize("path", MESSAGE_LISTINGS)
@pytest.mark.parametrize("term", ["control_id", "destination"])
async def test_a_bsn_as_an_msh10_or_destination_in_the_url_is_refused_naming_the_term(
    engine: Engine, api: httpx.AsyncClient, path: str, term: str
) -> None:
    """Compared whole with what the engine wrote, a BSN there found nothing, but the URL put
    it in proxy logs and the export's entry kept it for five years; the console refused it."""
    answer = await api.get(path, params={term: "999 990 019"})
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"detail": f"{term}: this looks like a BSN: search by BSN instead"}
    assert "990" not in answer.text
    assert await engine.store.list_audit(AuditFilter(action="messages.export")) == []


async def test_an_msh10_that_matched_nothing_is_not_kept_in_the_export_entry(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    answer = await api.get("/api/v1/messages.csv", params={"control_id": "Puk 1980-01-01"})
    assert answer.status_code == 200, answer.text
    [entry] = await engine.store.list_audit(AuditFilter(action="messages.export"))
    assert entry.details["terms"] == {"control_id": "(matched nothing: not kept)"}


async def test_a_destination_id_holding_nine_such_digits_is_searched_not_refused(
    api: httpx.AsyncClient,
) -> None:
    """It is judged as a destination's id (here: configured nowhere), not refused as a BSN."""
    answer = await api.get("/api/v1/messages", params={"destination": "umc-999990019"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("destination: no destination has that id")
