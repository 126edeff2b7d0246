"""Operators change destinations while the engine runs; nothing queued is lost (issue 6)."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from destinations.config import dump_destination
from destinations.receiver import MllpReceiver
from integrator.engine import Engine
from integrator.errors import ConfigurationError, StateConflict
from integrator.operators import DestinationChanged, DestinationPaused
from integrator.store import AuditFilter, MessageFilter
from tests.http.support import api_client, token_for
from tests.integrator.support import destination, settings_for
from tests.services import free_port


def events(referral: dict[str, Any], n: int) -> list[str]:
    out = []
    for _ in range(n):
        event = copy.deepcopy(referral)
        event["event_id"] = str(uuid.uuid4())
        out.append(json.dumps(event))
    return out


@pytest.fixture
async def engine_on_files(tmp_path: Path, receiver: MllpReceiver) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination(
        "noord",
        receiver.port,
        providers=["ziekenhuis-noord"],
        retry={
            "initial": "50ms",
            "multiplier": 1,
            "max_delay": "50ms",
            "max_attempts": 1000,
            "max_age": "1h",
        },
    )
    (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
    engine = Engine(settings)
    await engine.start()
    yield engine
    await engine.stop()


async def eventually(check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_changing_the_port_while_messages_are_queued_delivers_them_to_the_new_port(
    engine_on_files: Engine, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    await engine.admin.update("noord", [f"port={free_port()}"], actor="anna")
    await engine.intake.submit_many(events(referral_data, 3), source="cli")

    async def retrying() -> bool:
        await engine.drain()
        counts = await engine.store.count_by_status("noord")
        return counts["retrying"] >= 1

    await eventually(retrying)
    new_home = MllpReceiver()
    await new_home.start()
    try:
        change = await engine.admin.update(
            "noord",
            [f"port={new_home.port}"],
            actor="anna",
            reason="moved to the new interface engine",
        )
        assert "+port:" in change.diff
        assert await engine.wait_settled(timeout=10)
        assert len(new_home.received) == 3
        counts = await engine.store.count_by_status("noord")
        assert counts["delivered"] == 3
    finally:
        await new_home.stop()


async def test_pause_keeps_messages_queued_and_resume_delivers_them(
    engine_on_files: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    await engine.admin.set_enabled("noord", False, actor="anna", reason="maintenance")
    await engine.intake.submit_many(events(referral_data, 2), source="cli")
    await asyncio.sleep(0.3)
    assert receiver.received == []
    assert (await engine.store.count_by_status("noord"))["queued"] == 2
    await engine.admin.set_enabled("noord", True, actor="anna")
    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 2


async def test_a_broken_file_is_refused_and_the_last_good_definition_keeps_running(
    engine_on_files: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    path.write_text(path.read_text() + "ack_timout: 5s\n")  # a typo: unknown key
    catalog = await engine.reload_destinations()
    assert "noord" in catalog.destinations
    assert any("ack_timout" in str(e) for e in catalog.errors)
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 1


def _msh_15_16(message: bytes) -> tuple[bytes, bytes]:
    fields = message.split(b"\r", 1)[0].split(b"|")
    return fields[14], fields[15]


@pytest.mark.parametrize(
    ("added", "key", "rule"),
    [
        (
            "ack_mode: enhanced\naccept_ack_type: XX\n",
            "accept_ack_type",
            "must be AL, NE, ER or SU (HL7 table 0155",
        ),
        (
            "application_ack_type: AL\n",  # ack_mode stays original
            "application_ack_type",
            "applies only with ack_mode: enhanced",
        ),
    ],
)
async def test_a_refused_ack_type_keeps_the_last_good_definition_until_fixed(
    engine_on_files: Engine,
    receiver: MllpReceiver,
    referral_data: dict[str, Any],
    added: str,
    key: str,
    rule: str,
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    good = path.read_text()
    path.write_text(good.replace("ack_mode: original\n", "") + added)
    catalog = await engine.reload_destinations()
    assert catalog.destinations["noord"].ack_mode == "original"  # the last good one
    [error] = catalog.errors
    assert (error.file, error.key) == (str(path), key)
    assert str(error).startswith(f"{path}: {key}: {rule}")
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    assert await engine.wait_settled(timeout=10)
    assert _msh_15_16(receiver.received[-1]) == (b"", b"")  # original mode: empty

    path.write_text(
        good.replace("ack_mode: original\n", "")
        + "ack_mode: enhanced\naccept_ack_type: AL\napplication_ack_type: AL\n"
    )
    catalog = await engine.reload_destinations()
    assert catalog.errors == ()
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    assert await engine.wait_settled(timeout=10)
    assert _msh_15_16(receiver.received[-1]) == (b"AL", b"AL")
    attempts = await engine.store.list_attempts((await _last_message(engine)).id)
    assert [a.ack_code for a in attempts] == ["CA/AA"]


async def _last_message(engine: Engine) -> Any:
    found = await engine.store.list_messages(MessageFilter(destination_id="noord"))
    return max(found, key=lambda m: m.seq)


async def test_a_copy_of_a_file_cannot_take_over_a_running_destination(
    engine_on_files: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    directory = engine.settings.destinations_dir
    elsewhere = MllpReceiver()
    await elsewhere.start()
    try:
        # "noord-backup.yaml" sorts before "noord.yaml"; it used to win the id.
        copy = directory / "noord-backup.yaml"
        copy.write_text(
            (directory / "noord.yaml")
            .read_text()
            .replace(f"port: {receiver.port}", f"port: {elsewhere.port}")
        )
        catalog = await engine.reload_destinations()
        assert catalog.destinations["noord"].port == receiver.port
        [refusal] = catalog.errors
        assert refusal.file == str(copy) and str(directory / "noord.yaml") in refusal.rule
        await engine.intake.submit_many(events(referral_data, 1), source="cli")
        assert await engine.wait_settled(timeout=10)
        assert (len(receiver.received), elsewhere.received) == (1, [])
        assert [h["actor"] for h in await engine.admin.history("noord")] == ["file"]

        # Nor after a restart.
        await engine.stop()
        await engine.start()
        assert engine.catalog.destinations["noord"].port == receiver.port
    finally:
        await elsewhere.stop()


async def test_a_destination_in_service_shows_the_revision_it_runs_on(
    engine_on_files: Engine,
) -> None:
    """Not only a broken one: which revision is in service is what an operator asks first."""
    engine = engine_on_files
    [row] = await engine.admin.summaries()
    assert (row["state"], row["revision"]) == ("active", 1)
    await engine.admin.update("noord", ["ack_timeout=5s"], actor="anna")
    [row] = await engine.admin.summaries()
    assert row["revision"] == 2 and (await engine.admin.view("noord")).revision == 2
    # A hand edit the engine has not recorded yet runs on no recorded revision.
    path = engine.settings.destinations_dir / "noord.yaml"
    path.write_text(path.read_text().replace("ack_timeout: 5s", "ack_timeout: 7s"))
    [row] = await engine.admin.summaries()
    assert row["revision"] is None
    await engine.reload_destinations()  # recorded now, as the engine records hand edits
    [row] = await engine.admin.summaries()
    assert row["revision"] == 3


async def test_a_broken_destination_stays_listed_testable_pausable_and_survives_a_restart(
    engine_on_files: Engine, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    path.write_text(path.read_text().replace("ack_timeout: 2s", "ack_timeout: soon"))
    await engine.reload_destinations()
    [row] = await engine.admin.summaries()
    assert (row["id"], row["state"], row["revision"]) == ("noord", "broken", 1)
    assert row["problem"]["key"] == "ack_timeout" and "duration" in row["problem"]["rule"]
    result = await engine.admin.test("noord")
    assert (result.outcome, len(receiver.received)) == ("delivered", 1)

    await engine.stop()  # a restart runs it on its last good definition too
    await engine.start()
    assert engine.catalog.broken["noord"].revision == 1
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    assert await engine.wait_settled(timeout=10)
    assert len(receiver.received) == 2

    change = await engine.admin.set_enabled("noord", False, actor="anna")
    assert change.revision == 2 and "ack_timeout: 2s" in path.read_text()
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    await asyncio.sleep(0.3)
    assert (await engine.store.count_by_status("noord"))["queued"] == 1
    assert (await engine.admin.view("noord")).state == "paused"


async def test_hand_edits_are_picked_up_by_the_watcher_and_recorded(
    engine_on_files: Engine, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    path.write_text(path.read_text().replace("enabled: true", "enabled: false"))

    async def paused() -> bool:
        return not engine.catalog.destinations["noord"].enabled

    await eventually(paused, timeout=20)
    history = await engine.admin.history("noord")
    assert [h["actor"] for h in history] == ["file", "file"]
    assert "+enabled: false" in history[-1]["diff"]


async def test_rollback_restores_an_earlier_revision(engine_on_files: Engine) -> None:
    engine = engine_on_files
    await engine.admin.update("noord", ["retry.max_attempts=3", "ack_timeout=5s"], actor="bram")
    change = await engine.admin.rollback("noord", 1, actor="anna", reason="undo")
    assert change.revision == 3
    config, _ = await engine.admin.get("noord")
    assert config.retry.max_attempts == 1000 and config.ack_timeout == 2.0
    history = await engine.admin.history("noord")
    assert [(h["revision"], h["actor"], h["action"]) for h in history] == [
        (1, "file", "file"),
        (2, "bram", "update"),
        (3, "anna", "rollback to 1"),
    ]
    with pytest.raises(ConfigurationError, match=r"no revision 9; its revisions: 1-3$"):
        await engine.admin.rollback("noord", 9, actor="anna")


async def test_remove_with_waiting_messages_is_refused_unless_forced(
    engine_on_files: Engine, referral_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    await engine.admin.set_enabled("noord", False, actor="anna")
    await engine.intake.submit_many(events(referral_data, 2), source="cli")
    with pytest.raises(StateConflict, match="2 message"):  # not bad input: exit 1, 409
        await engine.admin.remove("noord", actor="anna")
    assert (engine.settings.destinations_dir / "noord.yaml").exists()
    await engine.admin.remove("noord", actor="anna", force=True, reason="contract ended")
    assert not (engine.settings.destinations_dir / "noord.yaml").exists()
    dead = await engine.store.list_messages(MessageFilter(status="dead"))
    assert len(dead) == 2
    assert all(m.last_error and "contract ended" in m.last_error for m in dead)
    audit = await engine.store.list_audit(target="noord")
    assert any(a.action == "destination.remove" and a.actor == "anna" for a in audit)


async def test_invalid_changes_name_the_key_and_the_rule(engine_on_files: Engine) -> None:
    engine = engine_on_files
    with pytest.raises(ConfigurationError, match=r"port"):
        await engine.admin.update("noord", ["port=70000"], actor="anna")
    # YAML 1.1's octal: 05000 was port 2560, written without a word
    with pytest.raises(ConfigurationError, match=r"port: must be a whole number from 1 to 65535"):
        await engine.admin.update("noord", ["port=05000"], actor="anna")
    with pytest.raises(ConfigurationError, match=r"retired; use its successor 'orm-v3'"):
        await engine.admin.update("noord", ["messages.diagnostic_request=orm-lfdv1"], actor="anna")
    change = await engine.admin.update("noord", ["messages.referral=ref-v1"], actor="anna")
    assert any("deprecated" in w and "ref-v2" in w for w in change.warnings)
    current, _ = await engine.admin.get("noord")
    with pytest.raises(ConfigurationError, match="exists already"):
        await engine.admin.add(dump_destination(current), actor="anna")


async def test_test_message_is_sent_with_processing_id_t_and_leaves_the_queue_alone(
    engine_on_files: Engine, receiver: MllpReceiver
) -> None:
    engine = engine_on_files
    result = await engine.admin.test("noord")
    assert (result.outcome, result.ack_code) == ("delivered", "AA")
    [message] = receiver.received
    assert message.split(b"\r", 1)[0].split(b"|")[10] == b"T"
    assert await engine.store.list_messages() == []


async def test_a_test_message_to_a_paused_destination_is_refused_unless_asked_for(
    engine_on_files: Engine, receiver: MllpReceiver
) -> None:
    """Pausing stops a destination's traffic on purpose: a test message does not slip past it
    by default, and one sent anyway says so in the audit log."""
    engine = engine_on_files
    await engine.admin.set_enabled("noord", False, actor="anna", reason="receiver maintenance")
    with pytest.raises(DestinationPaused) as refused:
        await engine.admin.test("noord", actor="anna")
    assert "destination 'noord' is paused" in str(refused.value)
    assert refused.value.exit_code == 1
    assert receiver.received == []
    assert not await engine.store.list_audit(AuditFilter(action="destination.test"))

    result = await engine.admin.test("noord", actor="anna", even_if_paused=True)
    assert (result.outcome, len(receiver.received)) == ("delivered", 1)
    [entry] = await engine.store.list_audit(AuditFilter(action="destination.test"))
    assert (entry.actor, entry.details["paused"], entry.details["even_if_paused"]) == (
        "anna",
        True,
        True,
    )

    await engine.admin.set_enabled("noord", True, actor="anna", reason="back")
    await engine.admin.test("noord", actor="anna")  # active: no flag needed, none recorded
    newest = (await engine.store.list_audit(AuditFilter(action="destination.test")))[0]
    assert "paused" not in newest.details


async def test_destinations_api(engine_on_files: Engine, receiver: MllpReceiver) -> None:
    engine = engine_on_files
    token = await token_for(engine, name="carla-ops")
    async with api_client(engine, token) as api:
        listed = (await api.get("/api/v1/destinations")).json()
        assert [d["id"] for d in listed] == ["noord"]
        assert listed[0]["refused_copies"] == []  # none kept beside its file
        new = dump_destination(destination("west", receiver.port, providers=["lab-west"]))
        import yaml

        created = await api.post(
            "/api/v1/destinations",
            json=yaml.safe_load(new),
            headers={"x-integrator-actor": "carla"},
        )
        assert created.status_code == 201, created.text
        bad = await api.post("/api/v1/destinations", json={"id": "x"})
        assert bad.status_code == 422 and "name" in bad.json()["detail"]
        paused = await api.post("/api/v1/destinations/west/pause")
        assert paused.json()["action"] == "pause"
        assert (await api.get("/api/v1/destinations/nope")).status_code == 404
        refused = await api.post("/api/v1/destinations/west/test")
        assert refused.status_code == 409, refused.text
        assert "'west' is paused" in refused.json()["detail"]
        assert "?even_if_paused=true" in refused.json()["detail"]
        tested = await api.post("/api/v1/destinations/west/test?even_if_paused=true")
        assert tested.json()["ack_code"] == "AA"
        history = (await api.get("/api/v1/destinations/west/history")).json()
        # Who: the token, whatever the (ignored) X-Integrator-Actor header said.
        assert [h["actor"] for h in history] == ["token:carla-ops", "token:carla-ops"]
        [test_entry] = [
            a
            for a in (await api.get("/api/v1/audit", params={"target": "west"})).json()
            if a["action"] == "destination.test"
        ]
        assert test_entry["actor"] == "token:carla-ops"
        removed = await api.delete("/api/v1/destinations/west")
        assert removed.status_code == 200
        assert "west" not in engine.catalog.destinations


async def test_the_api_shows_sets_and_refuses_the_msh_15_16_keys(engine_on_files: Engine) -> None:
    engine = engine_on_files
    async with api_client(engine) as api:
        schema = (await api.get("/openapi.json")).json()["components"]["schemas"]
        accept = schema["DestinationConfig"]["properties"]["accept_ack_type"]
        assert {"enum": ["AL", "NE", "ER", "SU"], "type": "string"} in accept["anyOf"]
        shown = (await api.get("/api/v1/destinations/noord")).json()["definition"]
        assert (shown["accept_ack_type"], shown["application_ack_type"]) == (None, None)
        # A whole definition as GET shows it, the nulls included, is taken back as it is.
        same = await api.put("/api/v1/destinations/noord", json=shown)
        assert same.status_code == 200 and same.json()["changed"] is False

        refused = await api.patch("/api/v1/destinations/noord", json={"accept_ack_type": "AL"})
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith(
            "accept_ack_type: applies only with ack_mode: enhanced"
        )
        patched = await api.patch(
            "/api/v1/destinations/noord",
            json={"ack_mode": "enhanced", "accept_ack_type": "AL", "application_ack_type": "SU"},
        )
        assert patched.status_code == 200, patched.text
        shown = (await api.get("/api/v1/destinations/noord")).json()["definition"]
        assert (shown["accept_ack_type"], shown["application_ack_type"]) == ("AL", "SU")
        bad = await api.patch("/api/v1/destinations/noord", json={"application_ack_type": "XX"})
        assert bad.status_code == 422
        assert "application_ack_type: must be AL, NE, ER or SU" in bad.json()["detail"]
        assert engine.catalog.destinations["noord"].application_ack_type == "SU"


async def test_destinations_api_put_takes_a_whole_definition_and_patch_some_keys(
    engine_on_files: Engine,
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    async with api_client(engine) as api:
        shown = (await api.get("/api/v1/destinations/noord")).json()
        assert (shown["state"], shown["problem"]) == ("active", None)
        whole = shown["definition"]
        before = path.read_text()

        partial = {k: v for k, v in whole.items() if k != "receiving_application"}
        refused = await api.put("/api/v1/destinations/noord", json=partial)
        assert refused.status_code == 422
        assert "receiving_application: required" in refused.json()["detail"]
        assert "PATCH" in refused.json()["detail"]
        assert path.read_text() == before
        assert engine.catalog.destinations["noord"].receiving_application == "HIS"

        replaced = await api.put("/api/v1/destinations/noord", json={**whole, "port": 2591})
        assert replaced.status_code == 200 and replaced.json()["revision"] == 2
        assert engine.catalog.destinations["noord"].port == 2591

        patched = await api.patch(
            "/api/v1/destinations/noord",
            json={"receiving_facility": "ZN", "retry": {"max_attempts": None}},
            headers={"content-type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        config = engine.catalog.destinations["noord"]
        assert (config.receiving_application, config.receiving_facility) == ("HIS", "ZN")
        assert (config.retry.max_attempts, config.port) == (20, 2591)

        same = await api.patch("/api/v1/destinations/noord", json={"port": 2591})
        assert same.json()["changed"] is False and same.json()["revision"] is None
        bad = await api.patch("/api/v1/destinations/noord", json={"port": 0})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("port: ")
        assert (await api.patch("/api/v1/destinations/nope", json={})).status_code == 404
        history = (await api.get("/api/v1/destinations/noord/history")).json()
        assert [h["revision"] for h in history] == [1, 2, 3]

        path.write_text(path.read_text() + "ack_timout: 5s\n")
        await engine.reload_destinations()
        [row] = (await api.get("/api/v1/destinations")).json()
        assert row["state"] == "broken"
        assert row["problem"] == {
            "file": str(path),
            "key": "ack_timout",
            "code": "extra_forbidden",
            "rule": "unknown key (did you mean ack_timeout?)",
        }
        shown = (await api.get("/api/v1/destinations/noord")).json()
        assert (shown["state"], shown["revision"]) == ("broken", 3)
        assert shown["definition"]["receiving_facility"] == "ZN"


async def test_removing_with_waiting_messages_tells_each_front_door_how_to_force_it(
    engine_on_files: Engine, referral_data: dict[str, Any]
) -> None:
    from integrator.operators import DestinationBusy

    engine = engine_on_files
    await engine.admin.set_enabled("noord", False, actor="anna")
    await engine.intake.submit_many(events(referral_data, 1), source="cli")
    with pytest.raises(DestinationBusy) as info:
        await engine.admin.remove("noord", actor="anna")
    assert "--force" not in str(info.value) and "force the removal" in str(info.value)
    async with api_client(engine) as api:
        refused = await api.delete("/api/v1/destinations/noord")
        assert refused.status_code == 409
        assert "?force=true" in refused.json()["detail"]
        assert "--force" not in refused.json()["detail"]
        assert (engine.settings.destinations_dir / "noord.yaml").exists()
        forced = await api.delete("/api/v1/destinations/noord", params={"force": "true"})
        assert forced.status_code == 200


async def test_a_destination_in_service_past_its_sunset_loads_and_holds_after_a_restart(
    tmp_path: Path, receiver: MllpReceiver, referral_data: dict[str, Any]
) -> None:
    from datetime import UTC, datetime

    from integrator.clock import ManualClock

    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination(
        "noord", receiver.port, providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
    )
    (settings.destinations_dir / "noord.yaml").write_text(dump_destination(config))
    clock = ManualClock(datetime(2027, 6, 1, tzinfo=UTC))
    engine = Engine(settings, clock=clock)
    await engine.start()  # before the sunset: recorded as revision 1, in service
    await engine.stop()

    clock.set(datetime(2027, 8, 1, tzinfo=UTC))  # ref-v1 retired on 2027-07-01
    engine = Engine(settings, clock=clock)
    await engine.start()
    try:
        assert "noord" in engine.catalog.destinations
        assert any("retired" in w and "held" in w for w in engine.catalog.warnings)
        [held] = (await engine.intake.submit(events(referral_data, 1)[0], source="cli")).messages
        assert held.status == "held"
        # Pausing keeps its versions: allowed. Switching to a retired version is not.
        await engine.admin.set_enabled("noord", False, actor="anna")
        with pytest.raises(ConfigurationError, match="retired"):
            await engine.admin.update(
                "noord", ["messages.diagnostic_request=orm-lfdv1"], actor="anna"
            )
        # A brand-new file on a retired version is refused.
        other = destination("zuid", receiver.port, providers=["z"], messages={"referral": "ref-v1"})
        (settings.destinations_dir / "zuid.yaml").write_text(dump_destination(other))
        catalog = await engine.reload_destinations()
        assert "zuid" not in catalog.destinations
        assert any("ref-v2" in str(e) for e in catalog.errors)
        await engine.admin.update(
            "noord", ["messages.referral=ref-v2", "enabled=true"], actor="anna"
        )
        assert await engine.wait_settled(timeout=10)
        message = await engine.store.get_message(held.message_id)
        assert message is not None and (message.status, message.version) == ("delivered", "ref-v2")
    finally:
        await engine.stop()


@pytest.mark.postgres
async def test_two_engines_recording_the_same_files_at_once_do_not_fail(tmp_path: Path) -> None:
    from datetime import UTC, date, datetime

    from integrator.operators import DestinationAdmin
    from integrator.store import Store
    from tests.store.conftest import postgres_site

    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    for n in range(5):
        config = destination(f"d{n}", 2575, providers=[f"p{n}"])
        (settings.destinations_dir / f"d{n}.yaml").write_text(dump_destination(config))
    async with postgres_site() as site:
        stores = [await Store.open(site.url, schema=site.schema) for _ in range(2)]
        try:
            admins = [
                DestinationAdmin(
                    store=s,
                    settings=settings,
                    today=lambda: date(2026, 11, 27),
                    now=lambda: datetime(2026, 11, 27, tzinfo=UTC),
                )
                for s in stores
            ]
            catalog = await admins[0].catalog()
            recorded = await asyncio.gather(*(a.record_file_changes(catalog) for a in admins))
            assert sum(recorded) == 5
            for n in range(5):
                assert len(await stores[0].list_destination_revisions(f"d{n}")) == 1
        finally:
            for s in stores:
                await s.close()


async def test_a_change_that_serves_a_provider_names_its_unrouted_events(
    engine_on_files: Engine, diagnostic_request_data: dict[str, Any]
) -> None:
    engine = engine_on_files
    await engine.intake.submit(json.dumps(diagnostic_request_data), source="cli")  # lab-west
    change = await engine.admin.update("noord", ["ack_timeout=3s"], actor="anna")
    assert not any("unrouted" in w for w in change.warnings)  # noord does not serve lab-west
    change = await engine.admin.update(
        "noord", ["providers=[ziekenhuis-noord, lab-west]"], actor="anna"
    )
    assert any(
        w.startswith("1 unrouted event(s) wait for provider 'lab-west'")
        and "integrator events route --provider lab-west" in w
        for w in change.warnings
    )
    # A pause, a port or a rollback after it said "now served by this destination" again each
    # time, of what it had not brought: reminded, as what still waits.
    for later in (["ack_timeout=4s"], ["enabled=false"], ["enabled=true"]):
        change = await engine.admin.update("noord", later, actor="anna")
        [reminder] = [w for w in change.warnings if "unrouted" in w]
        assert reminder.startswith(
            "1 unrouted event(s) still wait for provider 'lab-west', which this destination serves"
        ), later


async def test_a_change_made_to_an_old_revision_is_refused_and_writes_nothing(
    engine_on_files: Engine,
) -> None:
    """Optimistic concurrency: A read revision 1, B paused since; A's save would have made
    the destination active again (the console's edit did, unseen)."""
    from integrator.operators import DestinationChanged

    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    await engine.admin.set_enabled("noord", False, actor="bea", reason="LIS maintenance window")
    before = (path.read_text(), await engine.admin.history("noord"))
    for attempt in (
        engine.admin.patch("noord", {"name": "Noord ZH"}, actor="anna", expected_revision=1),
        engine.admin.update("noord", ["name=Noord ZH"], actor="anna", expected_revision=1),
    ):
        with pytest.raises(DestinationChanged) as refused:
            await attempt
        said = str(refused.value)
        assert "changed since revision 1: revision 2 is pause by bea" in said, said
        assert "'LIS maintenance window'" in said and "changing enabled" in said
        assert "try again with revision 2" in said
        assert (refused.value.current, refused.value.exit_code) == (2, 1)
    assert (path.read_text(), await engine.admin.history("noord")) == before
    assert engine.catalog.destinations["noord"].enabled is False

    # Made to the revision in service, it goes through and keeps the pause.
    change = await engine.admin.patch(
        "noord", {"name": "Noord ZH"}, actor="anna", expected_revision=2
    )
    assert change.revision == 3
    assert engine.catalog.destinations["noord"].enabled is False


async def test_a_refusal_after_several_revisions_names_each_and_who_changed_which_key(
    engine_on_files: Engine,
) -> None:
    """It named only the latest revision, with every key changed since: a pause "changing
    port", when the port was changed by someone else, two revisions before."""
    from integrator.operators import DestinationChanged

    engine = engine_on_files
    admin = engine.admin
    await admin.patch("noord", {"port": 2591}, actor="local:root")  # 2
    await admin.patch("noord", {"name": "Noord ZH"}, actor="local:root")  # 3
    await admin.patch("noord", {"port": 2592}, actor="local:root")  # 4
    await admin.set_enabled("noord", False, actor="token:ops-bot", reason="storing")  # 5
    with pytest.raises(DestinationChanged) as refused:
        await admin.patch("noord", {"ack_timeout": "5s"}, actor="anna", expected_revision=1)
    said = str(refused.value)
    assert (
        "changed since revision 1: 4 revisions in between (2-5, by local:root, token:ops-bot), "
        "changing name (3 by local:root), port (2, 4 by local:root), enabled (5 by token:ops-bot)"
        "; the latest, 5, is pause by token:ops-bot at "
    ) in said, said
    assert said.endswith(
        "('storing'); nothing was saved: look at the changes and try again with revision 5"
    ), said
    assert "2592" not in said and "Noord ZH" not in said  # keys, never values
    assert refused.value.actors == ("local:root", "token:ops-bot")
    assert [(t.key, t.revisions) for t in refused.value.touched] == [
        ("name", (3,)),
        ("port", (2, 4)),
        ("enabled", (5,)),
    ]


async def test_a_change_to_a_file_edited_by_hand_since_is_refused_until_recorded(
    engine_on_files: Engine,
) -> None:
    from integrator.operators import DestinationChanged

    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    path.write_text(path.read_text().replace("ack_timeout: 2s", "ack_timeout: 7s"))
    with pytest.raises(DestinationChanged) as refused:
        await engine.admin.patch("noord", {"port": 2599}, actor="anna", expected_revision=1)
    assert "edited by hand" in str(refused.value) and refused.value.current is None
    assert "ack_timeout: 7s" in path.read_text() and "2599" not in path.read_text()


async def test_the_api_refuses_a_change_made_to_an_old_revision_with_409(
    engine_on_files: Engine,
) -> None:
    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    async with api_client(engine) as api:
        shown = (await api.get("/api/v1/destinations/noord")).json()
        assert shown["revision"] == 1
        paused = await api.post(
            "/api/v1/destinations/noord/pause",
            headers={"x-integrator-reason": "LIS maintenance window"},
        )
        assert paused.json()["revision"] == 2
        before = path.read_text()
        stale = {"expected_revision": shown["revision"]}
        patched = await api.patch("/api/v1/destinations/noord", json={"port": 2591}, params=stale)
        assert patched.status_code == 409, patched.text
        detail = patched.json()["detail"]
        assert "changed since revision 1: revision 2 is pause by token:" in detail, detail
        assert "try again with revision 2" in detail
        whole = {**shown["definition"], "port": 2591}
        replaced = await api.put("/api/v1/destinations/noord", json=whole, params=stale)
        assert replaced.status_code == 409 and "revision 2" in replaced.json()["detail"]
        assert path.read_text() == before
        history = (await api.get("/api/v1/destinations/noord/history")).json()
        assert [h["revision"] for h in history] == [1, 2]

        current = {"expected_revision": 2}
        patched = await api.patch("/api/v1/destinations/noord", json={"port": 2591}, params=current)
        assert patched.status_code == 200 and patched.json()["revision"] == 3
        assert engine.catalog.destinations["noord"].enabled is False  # the pause stays
        bad = await api.patch(
            "/api/v1/destinations/noord", json={}, params={"expected_revision": 0}
        )
        assert bad.status_code == 422


async def test_moving_a_destination_into_a_cluster_nobody_holds_warns_or_is_refused(
    engine_on_files: Engine,
) -> None:
    """``CRAD`` for ``CARD``: nobody would see the destination but those of all clusters."""
    from integrator.access import Grant, Role
    from integrator.operators import UnheldCluster

    engine = engine_on_files
    path = engine.settings.destinations_dir / "noord.yaml"
    before = path.read_text()
    with pytest.raises(UnheldCluster) as refused:
        await engine.admin.patch(
            "noord", {"cluster": "CRAD"}, actor="anna", unheld_cluster="refuse"
        )
    assert str(refused.value) == (
        "no one holds cluster CRAD: the people of CARD will no longer see this destination; "
        "the clusters in use are: CARD"
    )
    assert path.read_text() == before

    change = await engine.admin.patch("noord", {"cluster": "CRAD"}, actor="anna")
    assert change.revision == 2 and str(refused.value) in change.warnings
    # A change that leaves the cluster alone says nothing more about it.
    change = await engine.admin.patch("noord", {"port": 2599}, actor="anna")
    assert not [w for w in change.warnings if "no one holds" in w]

    # A cluster someone is granted is no typo.
    await token_for(engine, Grant(Role.VIEWER, "CRAD"), name="crad-viewer")
    with pytest.raises(UnheldCluster, match="the people of CRAD will no longer see"):
        await engine.admin.patch(
            "noord", {"cluster": "CARD"}, actor="anna", unheld_cluster="refuse"
        )
    await engine.admin.patch("noord", {"cluster": "CARD"}, actor="anna")
    change = await engine.admin.patch(
        "noord", {"cluster": "CRAD"}, actor="anna", unheld_cluster="refuse"
    )
    assert change.revision is not None and not change.warnings


async def test_of_two_saves_made_to_the_same_revision_at_once_one_is_refused(
    engine_on_files: Engine,
) -> None:
    """Two saves through one engine that both read revision 1 cannot both be written (across
    processes: tests/integrator/test_destination_race.py)."""
    from integrator.operators import DestinationChanged

    engine = engine_on_files
    results = await asyncio.gather(
        engine.admin.patch("noord", {"port": 2591}, actor="anna", expected_revision=1),
        engine.admin.patch("noord", {"name": "Noord ZH"}, actor="bea", expected_revision=1),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DestinationChanged)]
    assert len(refused) == 1, results
    assert [h["revision"] for h in await engine.admin.history("noord")] == [1, 2]


async def test_a_test_message_goes_in_the_version_the_engine_sends_after_a_sunset(
    tmp_path: Path,
) -> None:
    """ref-v1 retired (2027-07-01) on a destination with auto_upgrade: the engine delivers its
    messages as ref-v2, and a test message goes as ref-v2 too (it was refused, "cannot build a
    ref-v1 test message", suggesting a change the destination does not need). Without
    auto_upgrade the engine holds them, and the test says so."""
    from integrator.clock import ManualClock

    clock = ManualClock(datetime(2027, 6, 30, 12, 0, tzinfo=UTC))
    async with MllpReceiver() as receiver:
        settings = settings_for(tmp_path)
        settings.destinations_dir.mkdir()
        for dest_id, upgrade in (("noord", True), ("zuid", False)):
            config = destination(
                dest_id,
                receiver.port,
                providers=[f"ziekenhuis-{dest_id}"],
                messages={"referral": "ref-v1"},
                auto_upgrade=upgrade,
            )
            (settings.destinations_dir / f"{dest_id}.yaml").write_text(dump_destination(config))
        engine = Engine(settings, clock=clock)
        await engine.start()
        try:
            clock.set(datetime(2027, 7, 1, 9, 0, tzinfo=UTC))
            await engine.reload_destinations()
            upgraded = await engine.admin.test("noord", actor="anna")
            with pytest.raises(ConfigurationError, match="holds messages in it now"):
                await engine.admin.test("zuid", actor="anna")
        finally:
            await engine.stop()
    assert (upgraded.version, upgraded.outcome) == ("ref-v2", "delivered")


async def test_after_a_sunset_a_hand_pause_and_a_rollback_keeping_the_versions_are_taken(
    tmp_path: Path,
) -> None:
    """ref-v1 in service (auto_upgrade) past its sunset: pausing by hand edit was refused as a
    switch to a retired version (the destination went on delivering, broken), and so was a
    rollback to a revision with the same versions; the same pause through the CLI was taken.
    Keeping the versions in service is no switch, whichever way the change is made."""
    from integrator.clock import ManualClock

    clock = ManualClock(datetime(2027, 6, 30, 12, 0, tzinfo=UTC))
    settings = settings_for(tmp_path)
    settings.destinations_dir.mkdir()
    config = destination(
        "noord", free_port(), providers=["ziekenhuis-noord"], messages={"referral": "ref-v1"}
    )
    path = settings.destinations_dir / "noord.yaml"
    path.write_text(dump_destination(config))
    engine = Engine(settings, clock=clock)
    await engine.start()
    try:
        clock.set(datetime(2027, 7, 1, 9, 0, tzinfo=UTC))
        await engine.reload_destinations()
        path.write_text(path.read_text().replace("enabled: true", "enabled: false"))
        paused = await engine.reload_destinations()
        view = await engine.admin.view("noord")
        moved = await engine.admin.update("noord", [f"port={free_port()}"], actor="anna")
        back = await engine.admin.rollback("noord", 1, actor="anna", reason="old port")
    finally:
        await engine.stop()
    assert "noord" not in paused.broken and not paused.destinations["noord"].enabled
    assert view.state == "paused"
    assert back.revision is not None and back.revision > (moved.revision or 0)


def test_a_change_overtaken_by_an_unrecorded_hand_edit_says_how_it_gets_recorded() -> None:
    """ "Try again in a moment" never came true with no engine running: nothing records the
    edit until a change without an expected revision does."""
    said = str(DestinationChanged("noord", 1, None))
    assert "edited by hand and that is not recorded yet; nothing was saved" in said
    assert "a running engine records it within a second" in said
    assert "with none running, a change made without an expected revision records it" in said
