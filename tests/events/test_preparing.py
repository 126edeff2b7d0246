"""Intake prepares a few events at a time a step at a time (``preparing.prepare_all``: every
event's JSON, then their BSN hashes, then their messages): each must come out exactly as it
does prepared alone, its own time, JSON, hash and messages, whatever its neighbours are."""

from __future__ import annotations

import copy
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integrator import preparing
from integrator.preparing import Event, prepare, prepare_all
from schemas import parse_event
from tests.integrator.support import destination, settings_for

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
NOORD = "ziekenhuis-noord"  # the sample referral's provider


def _numbered_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Message ids and control ids counted from 1 again: the same in both runs."""
    counter = itertools.count(1)

    def ids() -> tuple[str, str]:
        n = next(counter)
        return f"00000000-0000-4000-8000-{n:012d}", f"CONTROL{n:012d}"

    monkeypatch.setattr(preparing, "new_message_ids", ids)


def test_events_prepared_together_are_each_what_it_is_prepared_alone(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
) -> None:
    settings = settings_for(tmp_path, search_key="a-test-search-key-of-enough-length")
    noord = destination("noord", 1, providers=[NOORD])
    zuid = destination("zuid", 1, providers=[NOORD], messages={"referral": "ref-v1"})
    lab = destination("lab", 1, providers=[NOORD], messages={"diagnostic_request": "orm-v3"})
    without_bsn = copy.deepcopy(referral_data)
    without_bsn["patient"]["bsn"] = None
    events: list[Event] = []
    for index, data in enumerate(
        [referral_data, diagnostic_request_data, without_bsn, referral_data, referral_data]
    ):
        copied = copy.deepcopy(data)
        copied["event_id"] = str(uuid.uuid4())
        copied["zd_number"] = f"ZD{100000010 + index}"
        events.append(parse_event(copied))
    # Each its own time and destinations: none, one that takes no such messages, several.
    arrived = [
        (event, START + timedelta(milliseconds=index), serving)
        for index, (event, serving) in enumerate(
            zip(events, [[noord], [noord, lab], [], [zuid, lab, noord], [lab]], strict=True)
        )
    ]

    _numbered_ids(monkeypatch)
    together = prepare_all(arrived, "http", settings, settings.zone)
    _numbered_ids(monkeypatch)
    alone = [prepare(e, "http", now, d, settings, settings.zone) for e, now, d in arrived]

    assert together == alone
    for (event, now, _), prepared in zip(arrived, together, strict=True):
        record = prepared.record
        assert record.id == str(event.event_id)
        assert record.received_at == now
        assert record.payload == event.model_dump_json()  # the stored event as before
        bsn = event.patient.bsn
        assert record.bsn_hash == (settings.bsn_hash(bsn) if bsn else None)
    assert [[m.destination_id for m in p.messages] for p in together] == [
        ["noord"],
        ["noord", "lab"],
        [],
        ["zuid", "noord"],
        [],
    ]
    assert together[2].warnings and together[4].warnings  # none serves it, lab takes no referral
