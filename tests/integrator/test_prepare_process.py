"""Batches of events prepared in a process beside the engine (``INTEGRATOR_PREPARE_PROCESS``):
the same outcomes as on the event loop, and nothing lost when that process ends.

Two real engines on SQLite take the same batch, one preparing on its loop, the other in its
process; their answers, their stored events, rejections and messages must agree but for what
is new per message (ids, MSH-7, MSH-10).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from integrator import prepare_process
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.intake import IntakeResult
from integrator.prepare_process import MAX_BATCH_BYTES, MIN_BATCH, PrepareProcess, worth_it
from integrator.store.errors import StoreUnavailable
from tests.integrator.support import destination, settings_for
from tests.integrator.test_engine_elsewhere import running_engine

NOORD, ZUID = "ziekenhuis-noord", "ziekenhuis-zuid"


def _catalog() -> Any:
    # Paused: nothing is sent, every message stays as intake stored it.
    noord = destination(NOORD, 1, providers=[NOORD], enabled=False)
    zuid = destination(
        ZUID,
        1,
        providers=[NOORD, ZUID],
        enabled=False,
        messages={"referral": "ref-v1", "diagnostic_request": "oml-v3"},
    )
    return build_catalog([(f"{NOORD}.yaml", noord), (f"{ZUID}.yaml", zuid)], today=date.today())


def _batch(referral: dict[str, Any], request: dict[str, Any]) -> list[str]:
    """40 events: referrals and requests for two providers, one for a provider no destination
    serves, three that break rules (one a birth date in the future)."""
    events: list[dict[str, Any]] = []
    for index in range(36):
        event = copy.deepcopy(referral if index % 3 else request)
        event["event_id"] = str(uuid.uuid4())
        event["zd_number"] = f"ZD{300000000 + index}"
        event["provider"]["id"] = ZUID if index % 4 == 0 else NOORD
        events.append(event)
    unserved = copy.deepcopy(referral)
    unserved["event_id"], unserved["provider"]["id"] = str(uuid.uuid4()), "elders"
    bad_bsn = copy.deepcopy(referral)
    bad_bsn["event_id"], bad_bsn["patient"]["bsn"] = str(uuid.uuid4()), "123456789"
    no_id = copy.deepcopy(request)
    no_id["event_id"] = "not-a-uuid"
    unborn = copy.deepcopy(referral)
    unborn["event_id"], unborn["patient"]["birth_date"] = str(uuid.uuid4()), "2999-01-01"
    unborn["created_at"] = "2999-01-02T10:00:00+01:00"  # a sender's clock far ahead
    events[5:5] = [unserved, bad_bsn]
    events[20:20] = [no_id, unborn]
    return [json.dumps(e) for e in events]


def _without_new(payload: bytes) -> bytes:
    """A message without what is new each time it is made: MSH-7 and MSH-10."""
    segments = payload.split(b"\r")
    fields = segments[0].split(b"|")
    fields[6] = fields[9] = b""
    return b"\r".join([b"|".join(fields), *segments[1:]])


async def _outcome(engine: Engine, raws: list[str]) -> dict[str, Any]:
    """What intake answered and stored for ``raws``, without ids and times."""
    results = await engine.intake.submit_many(raws, source="cli", caller="local:anna")
    answers: list[Any] = []
    payloads: dict[str, Any] = {}
    for result in results:
        if isinstance(result, InvalidEvent):
            answers.append(("refused", result.to_json()))
            continue
        assert isinstance(result, IntakeResult)
        answers.append(
            (
                "accepted",
                result.event_id,
                result.warnings,
                [(m.destination_id, m.version, m.status, m.warnings) for m in result.messages],
            )
        )
        event = await engine.store.get_event(result.event_id)
        assert event is not None
        messages = await engine.store.get_messages([m.message_id for m in result.messages])
        assert isinstance(event.payload, dict)
        bsn = event.payload["patient"].get("bsn")
        assert event.bsn_hash == (engine.settings.bsn_hash(bsn) if bsn else None)
        payloads[result.event_id] = (
            event.caller,  # who sent it, kept wherever it was prepared
            event.payload,
            sorted((m.destination_id, _without_new(m.payload)) for m in messages),
        )
    rejected = await engine.store.list_rejected()
    return {
        "answers": answers,
        "payloads": payloads,
        "rejected": sorted(
            json.dumps([r.reason, r.size, r.zd_number, r.provider_id], sort_keys=True)
            for r in rejected
        ),
    }


async def _on_the_loop_and_in_the_process(
    tmp_path: Path, raws: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``_outcome`` of ``raws`` by an engine preparing on its loop and by one preparing in its
    process, each on a store of its own; checked to be the same."""
    outcomes = []
    for name, apart in (("loop", False), ("process", True)):
        engine = Engine(settings_for(tmp_path / name, prepare_process=apart), catalog=_catalog())
        await engine.start()
        try:
            assert (engine._prepare_process is not None) is apart
            outcomes.append(await _outcome(engine, raws))
        finally:
            await engine.stop()
    on_loop, in_process = outcomes
    assert in_process == on_loop
    return on_loop, in_process


async def test_a_batch_prepared_in_the_process_comes_out_as_on_the_loop(
    tmp_path: Path, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    raws = _batch(referral_data, diagnostic_request_data)
    assert len(raws) >= MIN_BATCH
    on_loop, in_process = await _on_the_loop_and_in_the_process(tmp_path, raws)
    kinds = [answer[0] for answer in on_loop["answers"]]
    assert kinds.count("refused") == 3 and len(on_loop["rejected"]) == 3
    assert "birth_date_in_future" in json.dumps(on_loop["answers"])
    assert len(on_loop["payloads"]) == 37  # the one for "elders" stored unrouted
    assert {kept[0] for kept in in_process["payloads"].values()} == {"local:anna"}


async def test_a_future_birth_date_and_a_created_at_ahead_are_judged_alike_in_the_process(
    tmp_path: Path, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    """The process runs the same ``validated`` and ``prepare``: a birth date in the future
    with a ``created_at`` in the past is ``birth_date_in_future`` there too (it was
    ``birth_date_after_created_at``), and a ``created_at`` years ahead is warned of alike."""
    unborn = copy.deepcopy(referral_data)
    unborn["event_id"], unborn["patient"]["birth_date"] = str(uuid.uuid4()), "2999-01-01"
    ahead = copy.deepcopy(referral_data)
    ahead["event_id"], ahead["created_at"] = str(uuid.uuid4()), "2999-01-02T10:00:00+01:00"
    raws = [*_batch(referral_data, diagnostic_request_data), json.dumps(unborn), json.dumps(ahead)]
    on_loop, _ = await _on_the_loop_and_in_the_process(tmp_path, raws)  # the same, checked
    refused = on_loop["answers"][-2]
    assert refused[0] == "refused"
    assert [e["rule"] for e in refused[1]] == ["birth_date_in_future"]
    accepted = on_loop["answers"][-1]
    assert accepted[0] == "accepted" and accepted[2][0].startswith("created_at_in_future: ")
    assert all(accepted[2][0] in message[3] for message in accepted[3]) and accepted[3]


async def test_a_process_killed_under_a_batch_loses_nothing_and_is_replaced(
    tmp_path: Path, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    engine = Engine(settings_for(tmp_path, prepare_process=True), catalog=_catalog())
    with capture_logs() as started:
        await engine.start()
    try:
        process = engine._prepare_process
        assert process is not None and process.pid is not None
        first = process.pid
        [said] = [e for e in started if e["event"] == "engine started"]
        assert said["prepare_process"] == first  # which process it is, for ps and top
        # Long enough for the process (some 0.2 s) that the kill below falls under it.
        copies = 30
        raws = [r for _ in range(copies) for r in _batch(referral_data, diagnostic_request_data)]
        for index, raw in enumerate(raws):  # 1,200 distinct events
            event = json.loads(raw)
            if event["event_id"] != "not-a-uuid":
                event["event_id"] = str(uuid.uuid4())
            raws[index] = json.dumps(event)
        with capture_logs() as logs:
            submitted = asyncio.create_task(engine.intake.submit_many(raws, source="cli"))
            await asyncio.sleep(0.02)  # the batch is with the process now
            os.kill(first, signal.SIGKILL)
            results = await submitted
        assert any(e["event"].startswith("the process preparing events ended") for e in logs)
        restarts = "integrator_prepare_process_restarts_total"
        assert engine.metrics.registry.get_sample_value(restarts) == 1
        accepted = [r for r in results if isinstance(r, IntakeResult)]
        assert len(accepted) == 37 * copies and len(results) == 40 * copies
        counts = await engine.store.count_by_status()
        # Each copy: 27 events of NOORD go to both files (ZUID serves NOORD too), 9 of ZUID to one.
        assert counts["queued"] == (27 * 2 + 9) * copies

        # The next batch goes to a new process.
        for _ in range(100):
            if process.pid is not None:
                break
            await asyncio.sleep(0.05)
        assert process.pid is not None and process.pid != first
        again = await engine.intake.submit_many(
            _batch(referral_data, diagnostic_request_data), source="cli"
        )
        assert sum(isinstance(r, IntakeResult) for r in again) == 37
    finally:
        await engine.stop()


def test_the_engine_module_run_again_by_a_spawned_process_runs_no_command() -> None:
    """A process started with ``spawn`` imports ``python -m integrator``'s module again as
    ``__mp_main__``; unguarded, it ran the command line once more (its usage, exit 2)."""
    ran = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy; runpy.run_module('integrator.__main__', run_name='__mp_main__')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")


def _children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[1] == str(pid):
                found.append(int(entry.name))
    return found


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_the_process_ends_with_the_engine_however_it_ends(
    env: dict[str, str], how: signal.Signals
) -> None:
    """Killed outright, the engine left its preparing process (and multiprocessing's resource
    tracker) waiting for a batch for ever, 100 MB each time."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to find the engine's processes")
    with running_engine({**env, "INTEGRATOR_PREPARE_PROCESS": "true"}, "--no-http") as engine:
        helpers = _children(engine.pid)
        assert helpers  # the preparing process, at least
        engine.send_signal(how)
        engine.wait(timeout=30)
    deadline = time.monotonic() + 10
    while not all(_ended(pid) for pid in helpers):
        assert time.monotonic() < deadline, [p for p in helpers if not _ended(p)]
        time.sleep(0.1)


def test_only_batches_large_in_number_and_small_in_bytes_go_to_the_process() -> None:
    """Referrals with large attachments stay on the loop: copied there and back, a batch of
    them would be held two or three times over."""
    small = b'{"event_id": "x"}'
    assert not worth_it([small] * (MIN_BATCH - 1))
    assert worth_it([small] * MIN_BATCH)
    large = "x" * (MAX_BATCH_BYTES // MIN_BATCH + 1)
    assert not worth_it([large] * MIN_BATCH)
    assert worth_it([{"a": large}] * MIN_BATCH)  # parsed already: counted as small


@pytest.mark.parametrize("apart", [False, True], ids=["loop", "process"])
async def test_a_refused_event_kept_before_the_store_failed_is_said_settled(
    tmp_path: Path,
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    apart: bool,
) -> None:
    """The RabbitMQ intake acks the refused events a failed batch kept already (``settled``)
    and tries the rest again; one kept but not said settled would be kept twice. The process's
    path said none until all were kept."""
    engine = Engine(settings_for(tmp_path, prepare_process=apart), catalog=_catalog())
    await engine.start()
    try:
        raws = _batch(referral_data, diagnostic_request_data)
        refused_at = [
            i
            for i, raw in enumerate(raws)
            if json.loads(raw)["patient"].get("bsn") == "123456789"
            or json.loads(raw)["event_id"] == "not-a-uuid"
            or json.loads(raw)["patient"].get("birth_date") == "2999-01-01"
        ]
        assert len(refused_at) == 3
        keep = engine.store.reject_event
        calls = 0

        async def fails_the_second(*args: Any, **kwargs: Any) -> str:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise StoreUnavailable("the store went away")
            return await keep(*args, **kwargs)

        monkeypatch.setattr(engine.store, "reject_event", fails_the_second)
        settled: dict[int, InvalidEvent] = {}
        with pytest.raises(StoreUnavailable):
            await engine.intake.submit_many(raws, source="cli", settled=settled)
        assert list(settled) == refused_at[:1]
        assert len(await engine.store.list_rejected()) == 1
    finally:
        await engine.stop()


async def test_a_process_that_cannot_start_leaves_the_engine_preparing_on_its_loop(
    tmp_path: Path,
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine runs as without the setting, and says so, rather than not at all."""

    def dies_at_start(self: PrepareProcess) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=os._exit,
            initargs=(3,),
        )

    monkeypatch.setattr(PrepareProcess, "_new_pool", dies_at_start)
    engine = Engine(settings_for(tmp_path, prepare_process=True), catalog=_catalog())
    with capture_logs() as logs:
        await engine.start()
    try:
        [said] = [e for e in logs if e["event"].startswith("the process preparing events could")]
        assert said["log_level"] == "error" and said["error_type"] == "BrokenProcessPool"
        process = engine._prepare_process
        assert process is not None and not process.running
        results = await engine.intake.submit_many(
            _batch(referral_data, diagnostic_request_data), source="cli"
        )
        assert sum(isinstance(r, IntakeResult) for r in results) == 37
    finally:
        await engine.stop()


async def test_a_process_that_does_not_end_at_the_stop_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch it never finishes must not hold the engine's stop for ever."""
    monkeypatch.setattr(prepare_process, "CLOSE_WAIT_S", 0.5)
    process = PrepareProcess(settings_for(tmp_path))
    await process.start()
    pid = process.pid
    assert pid is not None and process._pool is not None
    stuck = process._pool.submit(time.sleep, 600)  # a batch that never comes back
    for _ in range(200):  # handed to the process: past what the stop's cancelling reaches
        if stuck.running():
            break
        await asyncio.sleep(0.05)
    assert stuck.running()
    with capture_logs() as logs:
        await asyncio.wait_for(process.close(), 30)
    assert [e["event"] for e in logs] == ["the process preparing events did not end; killing it"]
    assert _ended(pid) and stuck.done()
