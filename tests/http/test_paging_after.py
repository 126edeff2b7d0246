"""Paging by the last item seen (``after``) on the messages, events and audit listings.

``offset`` counts from the newest item, so an item that arrives between two pages pushes the
others down and the next page repeats one; and a deep offset walks every item before it.
``after`` names the page's last item; a full page links the next with it
(``Link: rel="next"``). An ``after`` naming nothing the caller may see is refused as an unknown
one is (422 naming ``after``), so it cannot tell whether an id exists in another cluster.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.http.support import add_lab_cluster, api_client, token_for

NAMES_NO = (
    "after: names no {what} you may see: give the id of the last {what} of the page before, "
    "with the same terms"
)
BOTH = "after: give `after` or `offset`, not both: `after` already says where the page starts"
SINCE = {"since": "2020-01-01T00:00:00+00:00"}  # ordered by creation time, then seq


async def accept(engine: Engine, data: dict[str, Any], provider: str = "ziekenhuis-noord") -> None:
    event = copy.deepcopy(data)
    event["event_id"] = str(uuid.uuid4())
    event["zd_number"] = f"ZD{uuid.uuid4().int % 10**9:09d}"
    event["provider"]["id"] = provider
    await engine.intake.submit(json.dumps(event), source="http")


def next_link(answer: httpx.Response) -> str | None:
    """The relative address of the next page, or None on the last."""
    link = answer.headers.get("link")
    if link is None:
        return None
    found = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert found is not None, link
    return found.group(1)


async def followed(api: httpx.AsyncClient, first: str, key: str) -> list[list[str]]:
    """Every page from ``first`` on, by the links: the ``key`` of each item."""
    pages: list[list[str]] = []
    url: str | None = first
    while url is not None:
        answer = await api.get(url)
        assert answer.status_code == 200, answer.text
        assert "offset" not in str(answer.headers.get("link"))
        pages.append([str(item[key]) for item in answer.json()])
        url = next_link(answer)
    return pages


@pytest.mark.parametrize("terms", [{}, SINCE], ids=["by-seq", "by-created-at"])
async def test_message_pages_follow_their_links_and_do_not_shift_when_new_ones_arrive(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any], terms: dict[str, str]
) -> None:
    for _ in range(5):
        await accept(engine, referral_data)
    whole = [m["id"] for m in (await api.get("/api/v1/messages", params=terms)).json()]
    assert len(whole) == 5

    first = await api.get("/api/v1/messages", params={**terms, "limit": 2})
    assert [m["id"] for m in first.json()] == whole[:2]
    link = next_link(first)
    assert link is not None and f"after={whole[1]}" in link and "limit=2" in link
    await accept(engine, referral_data)  # arrives between the pages: newest, before them all

    shifted = await api.get("/api/v1/messages", params={**terms, "limit": 2, "offset": 2})
    assert [m["id"] for m in shifted.json()] == whole[1:3]  # offset repeats one
    rest = await followed(api, link, "id")
    assert rest == [whole[2:4], whole[4:]]  # after does not; the last page links nothing

    searched = await api.post(
        "/api/v1/messages/search", json={**terms, "limit": 2, "after": whole[3]}
    )
    assert searched.status_code == 200, searched.text
    assert [m["id"] for m in searched.json()] == whole[4:]


async def test_event_and_audit_pages_follow_their_links(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    for _ in range(3):
        await accept(engine, referral_data)
    events = [e["id"] for e in (await api.get("/api/v1/events")).json()]
    assert len(events) == 3
    assert await followed(api, "/api/v1/events?limit=2", "id") == [events[:2], events[2:]]
    searched = await api.post("/api/v1/events/search", json={"limit": 2, "after": events[0]})
    assert [e["id"] for e in searched.json()] == events[1:]

    for n in range(3):
        await engine.store.add_audit("local:tests", "test.entry", f"entry-{n}")
    entries = [e["id"] for e in (await api.get("/api/v1/audit")).json()]
    assert len(entries) >= 5  # the three, the token's making, the search just made
    pages = await followed(api, "/api/v1/audit?limit=2", "id")
    assert [entry for page in pages for entry in page] == [str(e) for e in entries]
    searched = await api.post("/api/v1/audit/search", json={"limit": 2, "after": entries[0]})
    assert [e["id"] for e in searched.json()] == entries[1:3]


@pytest.mark.parametrize(
    ("path", "what"),
    [("/api/v1/messages", "message"), ("/api/v1/events", "event")],
)
async def test_an_after_that_names_nothing_in_sight_is_refused_as_unknown(
    engine: Engine, referral_data: dict[str, Any], path: str, what: str
) -> None:
    await add_lab_cluster(engine)
    await accept(engine, referral_data, provider="lab-west")  # a message for LAB's destination
    card = await token_for(engine, Grant(Role.RESEND, "CARD"), name="card")
    async with api_client(engine) as everything, api_client(engine, card) as held:
        [lab] = (await everything.get(path)).json()
        lab_id = lab["id"]
        assert (await everything.get(path, params={"after": lab_id})).json() == []
        refusal = NAMES_NO.format(what=what)
        for after in (lab_id, str(uuid.uuid4()), "not-an-id"):
            answer = await held.get(path, params={"after": after})
            assert answer.status_code == 422, answer.text
            assert answer.json()["detail"] == refusal
        searched = await held.post(f"{path}/search", json={"after": lab_id})
        assert searched.status_code == 422 and searched.json()["detail"] == refusal


@pytest.mark.parametrize("path", ["/api/v1/messages", "/api/v1/events", "/api/v1/audit"])
async def test_after_with_an_offset_is_refused_naming_both(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any], path: str
) -> None:
    await accept(engine, referral_data)
    [item] = (await api.get(path, params={"limit": 1})).json()
    after = item["id"]
    answer = await api.get(path, params={"after": after, "offset": 1})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == BOTH
    searched = await api.post(f"{path}/search", json={"after": after, "offset": 1})
    assert searched.status_code == 422 and searched.json()["detail"] == BOTH


async def test_an_audit_after_must_be_an_entry_number(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v1/audit", params={"after": "0"})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["query", "after"] and "greater than or equal to 1" in error["msg"]


async def test_an_audit_after_that_names_no_entry_is_refused_not_paged_from_the_newest(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    """As the other listings refuse theirs: it answered the first page again, and a client
    with a stale or mistyped cursor read the same entries once more, or for ever."""
    await accept(engine, referral_data)
    refusal = NAMES_NO.format(what="audit entry")
    answer = await api.get("/api/v1/audit", params={"after": "999999"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == refusal
    searched = await api.post("/api/v1/audit/search", json={"after": 999999})
    assert searched.status_code == 422 and searched.json()["detail"] == refusal
    [newest] = (await api.get("/api/v1/audit", params={"limit": 1})).json()
    assert (await api.get("/api/v1/audit", params={"after": newest["id"]})).status_code == 200
