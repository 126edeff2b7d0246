"""A hand edit of the destination files is warned of as a change through the CLI is.

A file copied to a new id with its providers left as they were sends every event of those
providers twice; a change through the CLI or the API warns of it, a hand edit used to say
nothing (not in the log, not in ``destinations list``, not at the next start). Nor was a
deprecated version named on a hot reload, only at a start. And a refused file was logged again
at every unrelated reload while no metric said it lasted. Run with a running engine (its
watcher) on real files, a loopback receiver, and the CLI in process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from destinations.config import MAX_ID, DestinationFileError, dump_destination
from destinations.receiver import MllpReceiver
from integrator.catalog import Broken, Catalog
from integrator.clock import ManualClock
from integrator.engine import Engine
from integrator.metrics import Metrics
from tests.cli_in_process import run_cli
from tests.integrator.support import destination, settings_for
from tests.integrator.test_operators import eventually

# ref-v1 is deprecated from 2026-01-01, retired on 2027-07-01.
TODAY = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
SHARED = "provider served by more than one destination"
COPY_WARNED = (
    "destination 'noord-kopie': provider 'ziekenhuis-noord' is also served by 'noord'; each of "
    "its events goes to all of them (if this destination is a copy, change its providers)"
)
REFUSED = "destination file refused; running on the last good definition"


@pytest.fixture
async def engine(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    noord = destination("noord", receiver.port, providers=["ziekenhuis-noord"])
    (settings.destinations_dir / "noord.yaml").write_text(dump_destination(noord))
    running = Engine(settings, clock=ManualClock(TODAY))
    await running.start()
    yield running
    await running.stop()


def _said(logs: Sequence[MutableMapping[str, Any]], event: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == event]


def _copy_of_noord(engine: Engine, port: int) -> None:
    """``cp noord.yaml noord-kopie.yaml``, then only its id and port changed."""
    directory = engine.settings.destinations_dir
    text = (directory / "noord.yaml").read_text()
    text = text.replace("id: noord\n", "id: noord-kopie\n").replace(
        f"port: {engine.catalog.destinations['noord'].port}\n", f"port: {port}\n"
    )
    (directory / "noord-kopie.yaml").write_text(text)


async def _reloaded(engine: Engine, check: Any) -> None:
    async def done() -> bool:
        return bool(check())

    await eventually(done, timeout=20)  # the watcher, without a SIGHUP


async def test_a_copied_file_serving_the_same_provider_is_warned_of_in_the_log_list_and_start(
    engine: Engine, tmp_path: Path
) -> None:
    with capture_logs() as logs:
        _copy_of_noord(engine, 2599)
        await _reloaded(engine, lambda: "noord-kopie" in engine.catalog.destinations)
        await engine.reload_destinations()  # an unrelated reload says it no more
    [warned] = _said(logs, SHARED)  # of the new one only: noord did not change
    assert (warned["log_level"], warned["destination"]) == ("warning", "noord-kopie")
    assert warned["detail"] == COPY_WARNED

    listed = await asyncio.to_thread(
        run_cli,
        "destinations",
        "list",
        "--json",
        env={
            "INTEGRATOR_DATABASE_URL": engine.settings.database_url,
            "INTEGRATOR_DESTINATIONS_DIR": str(engine.settings.destinations_dir),
        },  # the store's own search key, in its key file
    )
    assert listed.returncode == 0, listed.stderr
    said = " ".join(listed.stderr.split())
    assert f"warning: {COPY_WARNED}" in said, said
    assert "provider 'ziekenhuis-noord' is also served by 'noord-kopie'" in said

    await engine.stop()
    again = Engine(engine.settings, clock=ManualClock(TODAY))
    with capture_logs() as logs:
        await again.start()  # the next start names both, each a destination new to it
    await again.stop()
    assert sorted(w["destination"] for w in _said(logs, SHARED)) == ["noord", "noord-kopie"]


async def test_a_hand_edit_to_a_deprecated_version_is_warned_of_at_the_reload(
    engine: Engine,
) -> None:
    path = engine.settings.destinations_dir / "noord.yaml"
    with capture_logs() as logs:
        path.write_text(path.read_text().replace("referral: ref-v2", "referral: ref-v1"))
        await _reloaded(
            engine, lambda: engine.catalog.destinations["noord"].messages["referral"] == "ref-v1"
        )
        await engine.reload_destinations()  # unchanged since: not said again
    [warned] = _said(logs, "deprecated message version")
    assert (warned["log_level"], warned["destination"]) == ("warning", "noord")
    assert warned["detail"] == (
        "destination 'noord': messages.referral uses deprecated message version 'ref-v1'; "
        "sunset 2027-07-01, move to 'ref-v2'"
    )


async def _started_again_on_ref_v1(
    engine: Engine, clock: ManualClock
) -> list[MutableMapping[str, Any]]:
    """What a new engine on ``engine``'s settings logs as it starts at ``clock``, its ``noord``
    on ``ref-v1``."""
    again = Engine(engine.settings, clock=clock)
    with capture_logs() as logs:
        await again.start()
    try:
        assert again.catalog.destinations["noord"].messages["referral"] == "ref-v1"
    finally:
        await again.stop()
    return logs


async def test_a_deprecated_version_in_service_is_warned_of_at_start_while_its_file_is_refused(
    engine: Engine,
) -> None:
    """A destination whose file is refused runs on its last good definition; a deprecated
    version that definition names went unsaid at start, as only the files that load were
    checked. The notice is the definition's in service, not the refused text's."""
    path = engine.settings.destinations_dir / "noord.yaml"
    path.write_text(path.read_text().replace("referral: ref-v2", "referral: ref-v1"))
    await _reloaded(
        engine, lambda: engine.catalog.destinations["noord"].messages["referral"] == "ref-v1"
    )
    refused = path.read_text().replace("referral: ref-v1", "referral: ref-v2")
    path.write_text(refused.replace("port:", "prot:"))  # moved on, but with a typo: refused
    await _reloaded(engine, lambda: "noord" in engine.catalog.broken)
    await engine.stop()

    logs = await _started_again_on_ref_v1(engine, ManualClock(TODAY))
    [warned] = _said(logs, "deprecated message version")
    assert (warned["log_level"], warned["destination"]) == ("warning", "noord")
    assert warned["detail"] == (
        "destination 'noord': messages.referral uses deprecated message version 'ref-v1'; "
        "sunset 2027-07-01, move to 'ref-v2'"
    )


async def test_a_retired_version_in_service_is_logged_as_retired_not_deprecated(
    engine: Engine,
) -> None:
    """Past its sunset, a version the destination keeps in service is retired: its messages
    are held (or mapped with the successor), no longer sent as they are. The start's line said
    ``deprecated message version`` over the notice that says so, and an alert on the one
    would fire for the other."""
    path = engine.settings.destinations_dir / "noord.yaml"
    path.write_text(path.read_text().replace("referral: ref-v2", "referral: ref-v1"))
    await _reloaded(
        engine, lambda: engine.catalog.destinations["noord"].messages["referral"] == "ref-v1"
    )
    await engine.stop()

    after_sunset = datetime(2027, 7, 2, 9, 0, tzinfo=UTC)
    logs = await _started_again_on_ref_v1(engine, ManualClock(after_sunset))
    assert _said(logs, "deprecated message version") == []
    [warned] = _said(logs, "retired message version")
    assert (warned["log_level"], warned["destination"]) == ("warning", "noord")
    assert warned["detail"] == (
        "destination 'noord': messages.referral uses retired message version 'ref-v1' "
        "(sunset 2027-07-01); new messages are held until it moves to 'ref-v2'"
    )


async def test_a_refused_file_is_logged_once_per_refusal_and_its_gauge_says_it_lasts(
    engine: Engine,
) -> None:
    path = engine.settings.destinations_dir / "noord.yaml"
    good = path.read_text()

    def refused() -> str:
        return engine.metrics.render().decode()

    assert 'integrator_destination_file_refused{destination="noord"}' not in refused()
    with capture_logs() as logs:
        path.write_text(good.replace("port:", "prot:"))
        await _reloaded(engine, lambda: "noord" in engine.catalog.broken)
        await engine.reload_destinations()  # unrelated reloads: the refusal is no news
        await engine.reload_destinations()
        assert 'integrator_destination_file_refused{destination="noord"} 1.0' in refused()
        first = len(_said(logs, REFUSED))
        assert first == 2  # `prot` unknown, `port` missing: each named once
        assert {e["log_level"] for e in _said(logs, REFUSED)} == {"error"}

        path.write_text(good.replace("port:", "porto:"))  # another refusal: news again
        await _reloaded(engine, lambda: len(_said(logs, REFUSED)) > first)
        await engine.reload_destinations()
        assert len(_said(logs, REFUSED)) == first + 2

        path.write_text(good)
        await _reloaded(engine, lambda: "noord" not in engine.catalog.broken)
    assert len(_said(logs, "destination file accepted again")) == 1
    assert 'integrator_destination_file_refused{destination="noord"}' not in refused()


def test_the_refused_gauge_labels_only_ids_of_a_destination_ids_form() -> None:
    """A refused file's id is its name, whatever its length: past ``MAX_ID`` it is ``other``,
    as a label for every scrape must stay bounded."""
    long_id = "a" * (MAX_ID + 1)
    problem = DestinationFileError(f"{long_id}.yaml", "port", "required")
    catalog = Catalog(
        broken={
            long_id: Broken(f"{long_id}.yaml", (problem,)),
            "noord": Broken("noord.yaml", (problem,), revision=1),
        }
    )
    metrics = Metrics()
    metrics.observe_catalog(catalog, TODAY.date())
    shown = metrics.render().decode()
    assert 'integrator_destination_file_refused{destination="noord"} 1.0' in shown
    assert 'integrator_destination_file_refused{destination="other"} 1.0' in shown
    assert long_id not in shown
