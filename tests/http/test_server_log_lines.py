"""An error that escapes the app is the HTTP server's to log, and it logs it as the engine does.

uvicorn printed its own lines, in its own format: an error no handler of the app caught came
as ``ERROR:    Exception in ASGI application`` and a traceback over many lines, also with
``INTEGRATOR_LOG_FORMAT=json``, which a log shipper reading one JSON object a line broke on;
and the traceback's last line was the exception's text, which may quote a value sent (a
pydantic error's, a driver's). Now the server's lines are the engine's: with ``json`` every
line of ``integrator run`` is one JSON object, the error's type and frames in it, never its
text.

The error is made to escape in a real ``integrator run``: the body limits, outside the app's
own containment of errors (``ContainUnexpectedErrors``), fail on one path.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

import httpx

from tests.http.support import ROOT

KEY = "a-test-search-key-of-enough-length"
SECRET = "999990019 J. de Vries"

RUN_FAILING_ON_BOOM = f"""
import sys

import integrator.http.limits as limits

content_length = limits._content_length


def failing(scope):
    if scope.get("path") == "/boom":
        raise ValueError("patient {SECRET}")
    return content_length(scope)


limits._content_length = failing
sys.argv = ["integrator", "run"]
from integrator.cli import main

main()
"""


def run_and_fail_once(env: dict[str, str]) -> tuple[int, list[str]]:
    """``integrator run`` with ``/boom`` failing outside the app: asked once, then stopped.
    The answer's status, and every line of its stderr."""
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_FAILING_ON_BOOM],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if '"http api listening"' in line:
                break
        else:
            raise AssertionError(f"the engine never listened: {''.join(lines)}")
        port = env["INTEGRATOR_HTTP_PORT"]
        status = httpx.get(f"http://127.0.0.1:{port}/boom", timeout=30).status_code
        process.send_signal(signal.SIGTERM)
        lines += process.stderr.readlines()
        assert process.wait(60) == 0, "".join(lines)
        return status, lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_error_that_escapes_the_app_is_one_json_line_without_its_text(
    env: dict[str, str],
) -> None:
    env.update(INTEGRATOR_SEARCH_KEY=KEY, INTEGRATOR_LOG_FORMAT="json")
    status, lines = run_and_fail_once(env)
    assert status == 500
    logged: list[dict[str, Any]] = []
    for line in lines:
        assert line.startswith("{") and line.endswith("}\n"), f"not one JSON object: {line!r}"
        logged.append(json.loads(line))
    [failed] = [entry for entry in logged if entry["event"] == "http server log"]
    assert failed["level"] == "error"
    assert failed["library"] == "uvicorn.error"
    assert failed["said"] == "Exception in ASGI application"
    assert failed["error_type"] == "ValueError"
    assert any(frame.endswith(" failing") for frame in failed["frames"]), failed["frames"]
    assert any("integrator/http/limits.py:" in frame for frame in failed["frames"])
    text = "".join(lines)
    assert "999990019" not in text and "de Vries" not in text
    assert logged[-1]["event"] == "engine stopped"


def test_an_engine_that_cannot_start_says_why_in_one_json_line(env: dict[str, str]) -> None:
    """The port taken: the reason was a plain ``error: cannot listen on …`` line, the one line
    of the run a log shipper reading JSON could not read, and the one that mattered most."""
    import socket

    env.update(INTEGRATOR_SEARCH_KEY=KEY, INTEGRATOR_LOG_FORMAT="json")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(env["INTEGRATOR_HTTP_PORT"])))
        taken.listen()
        ran = subprocess.run(
            [sys.executable, "-m", "integrator", "run"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert ran.returncode == 1, ran.stderr
    lines = ran.stderr.splitlines()
    assert lines and all(line.startswith("{") and line.endswith("}") for line in lines), lines
    [said] = [json.loads(x) for x in lines if '"engine could not run"' in x]
    assert said["level"] == "error" and said["exit_code"] == 1
    assert said["reason"].startswith("cannot listen on 127.0.0.1:"), said
    assert "perhaps an engine already running with these settings" in said["reason"], said
