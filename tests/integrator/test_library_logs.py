"""The AMQP client's own log lines do not reach people bare: with the broker down, aiormq's
``error when creating transport: <AMQPConnectionError: …>`` came on stderr (Python's last-resort
handler) before each of our lines, which already say it. They are our debug lines now, without
the values the library formats into them (frames, message bodies, the broker's URL)."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog
import uvloop

from integrator.logging import configure_logging
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
RAW = "error when creating transport"


@pytest.fixture(autouse=True)
def _defaults_afterwards() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    configure_logging(level="info")  # the library loggers back to what every command sets


def captured(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """stderr swapped in the test itself: pytest's capture swaps it again after setup."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def aiormq_says_it() -> None:
    logging.getLogger("aiormq.connection").error(
        "error when creating transport: %r", ConnectionError("amqp://guest:s3cret@h body=BSN")
    )


def test_below_debug_the_librarys_lines_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = captured(monkeypatch)
    configure_logging(level="info")
    aiormq_says_it()
    assert stderr.getvalue() == ""


def test_at_debug_they_are_ours_without_their_values(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = captured(monkeypatch)
    configure_logging(level="debug", fmt="json")
    configure_logging(level="debug", fmt="json")  # configured again: still one line per record
    aiormq_says_it()
    [line] = stderr.getvalue().splitlines()
    assert '"event": "library log"' in line and '"library": "aiormq.connection"' in line
    assert '"said": "error when creating transport: %r"' in line
    assert '"with": ["ConnectionError"]' in line
    assert "s3cret" not in line and "BSN" not in line


@pytest.mark.slow  # the engine tries the broker for its 10 s before it gives up
def test_run_with_the_broker_down_says_so_in_our_lines_only(tmp_path: Path) -> None:
    port = free_port()  # nothing listens: connection refused
    env = {
        **os.environ,
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/integrator.db",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "INTEGRATOR_HTTP_PORT": str(free_port()),
        "INTEGRATOR_AMQP_URL": f"amqp://guest:s3cret@127.0.0.1:{port}/",
        "INTEGRATOR_EVENT_LOOP": "asyncio",
    }
    env.pop("INTEGRATOR_LOG_LEVEL", None)
    ran = subprocess.run(
        [sys.executable, "-m", "integrator", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert ran.returncode == 1, ran.stderr
    assert "message broker unreachable; retrying" in ran.stderr
    assert (
        f"error: the engine could not run: message broker at amqp://***@127.0.0.1:{port}/ "
        f"not usable within 10s; last error: connection refused at 127.0.0.1:{port} "
        "(INTEGRATOR_AMQP_URL)"
    ) in ran.stderr
    assert RAW not in ran.stderr
    assert "s3cret" not in ran.stderr + ran.stdout


def _a_task_fails_unawaited() -> Callable[[], Coroutine[None, None, None]]:
    async def fails() -> None:
        raise ValueError("patient 999990019 J. de Vries")

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(fails())
        await asyncio.sleep(0.01)
        del task  # never awaited: the loop says so when it goes
        gc.collect()

    return main


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_an_error_no_task_awaited_is_one_line_of_ours_without_its_text(
    monkeypatch: pytest.MonkeyPatch, loop: str
) -> None:
    """asyncio's (and uvloop's) ``Task exception was never retrieved`` printed, in plain text
    over many lines, the task's and the error's repr: the error's text, whatever it quoted."""
    stderr = captured(monkeypatch)
    configure_logging(level="info", fmt="json")
    main = _a_task_fails_unawaited()
    if loop == "uvloop":
        uvloop.run(main())
    else:
        asyncio.run(main())
    lines = [json.loads(line) for line in stderr.getvalue().splitlines()]
    [said] = [line for line in lines if line["event"] == "event loop log"]
    assert said["said"] == "Task exception was never retrieved"
    assert (said["level"], said["library"], said["error_type"]) == (
        "error",
        "asyncio",
        "ValueError",
    )
    assert "999990019" not in stderr.getvalue() and "Vries" not in stderr.getvalue()


def test_a_callback_that_raised_is_named_without_its_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On Python's own loop the first line is ``Exception in callback deliver(<its args'
    repr>)``: the arguments (an event, a patient) are left out."""
    stderr = captured(monkeypatch)
    configure_logging(level="info", fmt="json")

    @dataclass
    class Patient:
        bsn: str
        name: str

    def deliver(patient: Patient) -> None:
        raise ValueError("no")

    async def main() -> None:
        asyncio.get_running_loop().call_soon(deliver, Patient("999990019", "J. de Vries"))
        await asyncio.sleep(0.01)

    asyncio.run(main())
    [said] = [json.loads(x) for x in stderr.getvalue().splitlines() if "event loop log" in x]
    assert said["said"].startswith("Exception in callback test_a_callback"), said
    assert said["said"].endswith("<locals>.deliver"), said
    assert "999990019" not in stderr.getvalue() and "Vries" not in stderr.getvalue()
