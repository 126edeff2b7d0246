"""The CSV exports page as their JSON listings do: ``limit`` and ``after`` (the last row's id) or
``offset``, a full page linking the next in ``Link: rel="next"``, and the same refusals of an
``after`` that names nothing or comes with an ``offset``. ``audit.csv`` took ``offset`` only,
``messages.csv`` and ``events.csv`` neither: a client could not get past the first 1,000 rows
but by narrowing the period. Each page is an export of its own, audited with where it started.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.http.test_paging_after import BOTH, NAMES_NO, accept, next_link

EXPORTS = [
    # (export, its JSON listing, the CSV column of the listing's id, what an after names)
    ("/api/v1/messages.csv", "/api/v1/messages", "message_id", "message"),
    ("/api/v1/events.csv", "/api/v1/events", "event_id", "event"),
    ("/api/v1/audit.csv", "/api/v1/audit", "id", "audit entry"),
]


async def added(engine: Engine, referral_data: dict[str, Any], what: str, count: int) -> None:
    """``count`` more items of the listing: events (a message each) or audit entries."""
    for n in range(count):
        if what == "audit entry":
            await engine.store.add_audit("local:tests", "test.entry", f"entry-{n}")
        else:
            await accept(engine, referral_data)


def rows(answer: httpx.Response, column: str) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [row[column] for row in csv.DictReader(io.StringIO(answer.text))]


async def pages_from(api: httpx.AsyncClient, first: str, column: str) -> list[list[str]]:
    """Every page from ``first`` on, by the links: each page's ids."""
    pages: list[list[str]] = []
    url: str | None = first
    while url is not None:
        answer = await api.get(url)
        pages.append(rows(answer, column))
        url = next_link(answer)
        assert url is None or "offset" not in url
    return pages


@pytest.mark.parametrize(("export", "listing", "column", "what"), EXPORTS)
async def test_an_export_pages_by_after_and_links_its_next_page(
    engine: Engine,
    api: httpx.AsyncClient,
    referral_data: dict[str, Any],
    export: str,
    listing: str,
    column: str,
    what: str,
) -> None:
    await added(engine, referral_data, what, 5)
    whole = [str(item["id"]) for item in (await api.get(listing, params={"limit": 5})).json()]
    assert len(whole) == 5

    first = await api.get(export, params={"limit": 2})
    assert rows(first, column) == whole[:2]
    link = next_link(first)
    assert link is not None and link.startswith(f"{export}?")
    assert f"after={whole[1]}" in link and "limit=2" in link
    await added(engine, referral_data, what, 1)  # arrives between the pages: before them all
    second = await api.get(link)
    assert rows(second, column) == whole[2:4]  # not shifted by what came in
    by_offset = await api.get(export, params={"limit": 2, "offset": 2})  # kept working
    assert rows(by_offset, column)[0] != whole[2]  # shifted: the newest pushed them down

    both = await api.get(export, params={"after": whole[0], "offset": 1})
    assert both.status_code == 422 and both.json()["detail"] == BOTH
    nothing = "999999" if what == "audit entry" else str(uuid.uuid4())
    unknown = await api.get(export, params={"after": nothing})
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == NAMES_NO.format(what=what)


@pytest.mark.parametrize(("export", "listing", "column", "what"), EXPORTS)
async def test_following_the_links_exports_every_row_once_each_page_audited(
    engine: Engine,
    api: httpx.AsyncClient,
    referral_data: dict[str, Any],
    export: str,
    listing: str,
    column: str,
    what: str,
) -> None:
    await added(engine, referral_data, what, 3)
    whole = [str(item["id"]) for item in (await api.get(listing, params={"limit": 1000})).json()]
    pages = await pages_from(api, f"{export}?limit=2", column)
    assert [row for page in pages for row in page] == whole  # none twice, none left out
    assert all(len(page) == 2 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 2
    action = {"message": "messages", "event": "events", "audit entry": "audit"}[what]
    entries = await engine.store.list_audit(AuditFilter(action=f"{action}.export"), limit=100)
    recorded = [entry.details for entry in reversed(entries)]
    assert len(recorded) == len(pages)
    assert "after" not in recorded[0]
    assert [str(details["after"]) for details in recorded[1:]] == [page[-1] for page in pages[:-1]]
    assert [details["rows"] for details in recorded] == [len(page) for page in pages]
