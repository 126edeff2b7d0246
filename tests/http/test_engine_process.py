"""The helpers that run ``integrator run`` beside a test: an engine that stops answering says why.

Under a loaded full run the fuzz test once got ``ConnectionRefusedError`` halfway with nothing
more: the engine's log had been read and thrown away. It was the helper's own watchdog, 60 s
after the start, killing an engine that was still answering a slow but working test.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import requests

from tests.http import support
from tests.http.support import LOG_TAIL_LINES, RunningEngine, how_it_ended, listening_engine
from tests.services import free_port

DIES_AFTER_LOGGING = """
import json, os, signal, sys
for n in range(100):
    print(json.dumps({"event": f"line {n}"}), file=sys.stderr, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""

LISTENS_AND_WAITS = """
import json, sys, time
print(json.dumps({"event": "http api listening"}), file=sys.stderr, flush=True)
time.sleep(60)
"""


def test_a_refused_connection_fails_with_the_exit_and_the_last_log_lines() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", DIES_AFTER_LOGGING], stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    engine = RunningEngine(process)
    reader = threading.Thread(target=engine.read_log, args=(process.stderr,), daemon=True)
    reader.start()
    reader.join(timeout=30)
    with pytest.raises(AssertionError) as failure, engine.answering():
        requests.get(f"http://127.0.0.1:{free_port()}/healthz", timeout=5)  # nobody listens
    said = str(failure.value)
    assert "ConnectionError" in said and "killed by SIGKILL" in said
    assert '"line 99"' in said and f'"line {99 - LOG_TAIL_LINES}"' not in said
    assert len(engine.log_tail) == LOG_TAIL_LINES


def test_how_a_process_ended_reads_as_a_person_says_it() -> None:
    assert how_it_ended(0) == "exit 0"
    assert how_it_ended(3) == "exit 3"
    assert how_it_ended(-9) == "killed by SIGKILL"
    assert how_it_ended(-15) == "killed by SIGTERM"
    assert how_it_ended(None) == "still running"


def test_nothing_is_set_to_kill_a_listening_engine_while_the_test_talks_to_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watchdog over the whole test killed the engine under a slow but working fuzz run; once
    the API listens, the test's calls bound themselves. (A stand-in that only says it listens:
    what is tested is the helper, and starting the real engine takes seconds.)"""
    monkeypatch.setattr(support, "ENGINE_COMMAND", (sys.executable, "-c", LISTENS_AND_WAITS))
    with listening_engine(env) as engine:
        armed = [
            timer
            for timer in threading.enumerate()
            if isinstance(timer, threading.Timer)
            and timer.function == engine.process.kill
            and not timer.finished.is_set()
        ]
        assert armed == []
        assert engine.process.poll() is None
