"""*Try now* on a destination with nothing waiting: the console says so, and the audit trail
records the action all the same, as the person who took it, with ``nothing_waiting`` (it
recorded nothing, so an operator's action left no trace). Request by request against a real
engine, through the service the API and the command line use (``integrator.try_now``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.console.started import noord_engine
from tests.console.test_saved_searches import post, signed_in


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def test_try_now_with_nothing_waiting_is_audited_as_who_clicked(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND, "CARD")) as sam:
        tried = await post(sam, "/destinations/noord/try-now", {"reason": "receiver back"})
    assert tried.status_code == 303, tried.text
    assert tried.headers["location"] == "/destinations/noord?tried=0"  # none: said so
    [entry] = await engine.store.list_audit(AuditFilter(action="destination.try_now"))
    assert (entry.actor, entry.target, entry.reason) == (
        "person:sam@example.org",
        "noord",
        "receiver back",
    )
    assert entry.details["messages"] == []
    assert entry.details["nothing_waiting"] is True
    assert entry.details["destination"] == "noord"
