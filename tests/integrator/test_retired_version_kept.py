"""A destination keeping a version retired since may still change its other event types.

orm-lfdv2 retired on 2027-03-31. A destination on ``ref-v1`` (referral) and ``orm-lfdv2``
(diagnostic_request), in service before that, holds its new lab orders on purpose. Its
referrals must still be movable to ``ref-v2`` (and its port changed) without also moving the
lab orders, through the CLI/API service and by hand edit alike; only a retired version an event
type newly takes is refused (docs/operators.md, "Message versions and their sunsets").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.errors import ConfigurationError
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for
from tests.services import free_port

BEFORE_SUNSET = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
AFTER_SUNSET = datetime(2027, 4, 2, 9, 0, tzinfo=UTC)  # orm-lfdv2 retired on 2027-03-31
VERSIONS = {"referral": "ref-v1", "diagnostic_request": "orm-lfdv2"}


@pytest.fixture
async def past_sunset(tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine whose destination ``lab`` was recorded before orm-lfdv2's sunset; now past."""
    clock = ManualClock(BEFORE_SUNSET)
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination("lab", free_port(), providers=["lab"], messages=VERSIONS)
    (settings.destinations_dir / "lab.yaml").write_text(dump_destination(config))
    engine = Engine(settings, clock=clock)
    await engine.start()  # recorded as revision 1, in service
    try:
        clock.set(AFTER_SUNSET)
        catalog = await engine.reload_destinations()
        assert "lab" in catalog.destinations and "lab" not in catalog.broken
        yield engine
    finally:
        await engine.stop()


async def test_another_event_types_version_and_the_port_change_a_retired_one_is_refused(
    past_sunset: Engine,
) -> None:
    engine = past_sunset
    moved = await engine.admin.update("lab", ["messages.referral=ref-v2"], actor="anna")
    assert moved.config is not None
    assert dict(moved.config.messages) == {"referral": "ref-v2", "diagnostic_request": "orm-lfdv2"}
    port = free_port()
    await engine.admin.update("lab", [f"port={port}"], actor="anna")
    kept = engine.catalog.destinations["lab"]
    assert kept.port == port and kept.messages["diagnostic_request"] == "orm-lfdv2"
    # A retired version newly taken is still refused, naming its successor.
    with pytest.raises(ConfigurationError, match=r"'orm-lfdv1' is retired; use its successor"):
        await engine.admin.update("lab", ["messages.diagnostic_request=orm-lfdv1"], actor="anna")
    assert engine.catalog.destinations["lab"].messages["diagnostic_request"] == "orm-lfdv2"


async def test_the_api_patches_one_event_types_version_and_refuses_a_retired_one(
    past_sunset: Engine,
) -> None:
    async with api_client(past_sunset) as api:
        patched = await api.patch(
            "/api/v1/destinations/lab",
            json={"messages": {"referral": "ref-v2"}},
            headers={"content-type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        refused = await api.patch(
            "/api/v1/destinations/lab",
            json={"messages": {"diagnostic_request": "orm-lfdv1"}},
            headers={"content-type": "application/merge-patch+json"},
        )
        assert refused.status_code == 422
        assert "messages.diagnostic_request" in refused.json()["detail"]
        assert "orm-lfdv1" in refused.json()["detail"]
    assert past_sunset.catalog.destinations["lab"].messages["referral"] == "ref-v2"


async def test_a_hand_edit_of_another_event_types_version_loads(past_sunset: Engine) -> None:
    engine = past_sunset
    path = engine.settings.destinations_dir / "lab.yaml"
    path.write_text(path.read_text().replace("ref-v1", "ref-v2"))
    catalog = await engine.reload_destinations()
    assert "lab" not in catalog.broken
    assert catalog.destinations["lab"].messages["referral"] == "ref-v2"
    path.write_text(path.read_text().replace("orm-lfdv2", "orm-lfdv1"))
    refused = await engine.reload_destinations()
    assert "lab" in refused.broken
    assert refused.destinations["lab"].messages["diagnostic_request"] == "orm-lfdv2"
