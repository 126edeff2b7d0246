"""``integrator health``: the container's health check says no when no engine answers."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.http.support import ROOT
from tests.json_answers import answering


def test_no_engine_listening_is_exit_1_naming_where_it_asked(env: dict[str, str]) -> None:
    for args in ([], ["--ready"]):
        done = subprocess.run(
            [sys.executable, "-m", "integrator", "health", "--timeout", "2", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stdout + done.stderr
        port = env["INTEGRATOR_HTTP_PORT"]
        path = "/readyz" if args else "/healthz"
        assert f"127.0.0.1:{port}{path}: no answer (connection refused)" in done.stderr


def test_bad_settings_are_named_not_counted(env: dict[str, str]) -> None:
    """It said "1 problem(s); `integrator run` names them": starting the engine to learn why
    its probe fails. Named as every command names them: the variable and the rule."""
    done = subprocess.run(
        [sys.executable, "-m", "integrator", "health", "--json"],
        env={**env, "INTEGRATOR_HTTP_HOST": "http://127.0.0.1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert "bad settings: INTEGRATOR_HTTP_HOST: must be a host name or address, not a URL" in said
    assert "problem(s)" not in said and "`integrator run`" not in said


NOT_READY = {"status": "not ready", "checks": {"store": "unavailable", "transport": "ok"}}
"""What an engine whose store does not answer answers on /readyz (integrator.scrape), with 503
(a broker away is named there too, but with 200: routes/health.py)."""
READY = {"status": "ready", "checks": {"store": "ok", "transport": "ok"}}


def _health(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integrator", "health", "--ready", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_not_ready_names_the_checks_that_failed_and_is_exit_1(env: dict[str, str]) -> None:
    port = int(env["INTEGRATOR_HTTP_PORT"])
    with answering(503, NOT_READY, port):
        done = _health(env, "--timeout", "5")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"127.0.0.1:{port}/readyz: 503 (store: unavailable)" in done.stderr
    assert "transport" not in done.stderr  # only what failed


def _health_json(env: dict[str, str], answer: tuple[int, Any] | None) -> tuple[int, str, str]:
    port = int(env["INTEGRATOR_HTTP_PORT"])
    if answer is None:
        done = _health(env, "--json", "--timeout", "3")
    else:
        with answering(*answer, port):
            done = _health(env, "--json", "--timeout", "3")
    return done.returncode, done.stdout, done.stderr


def test_json_gives_the_verdict_and_every_check_for_a_monitoring_script(
    env: dict[str, str],
) -> None:
    url = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}/readyz"
    code, out, err = _health_json(env, (200, READY))
    assert code == 0, out + err
    assert json.loads(out) == {
        "url": url,
        "status": 200,
        "healthy": True,
        "checks": {"store": "ok", "transport": "ok"},
        "problem": None,
    }
    code, out, err = _health_json(env, (503, NOT_READY))
    assert code == 1, out + err
    assert json.loads(out) == {
        "url": url,
        "status": 503,
        "healthy": False,
        "checks": {"store": "unavailable", "transport": "ok"},
        "problem": "503 (store: unavailable)",
    }
    assert "503 (store: unavailable)" in err  # the error line stays on stderr
    code, out, err = _health_json(env, None)
    assert code == 1, out + err
    # It gave no reason while the error line said "no answer": now the line's words.
    assert json.loads(out) == {
        "url": url,
        "status": None,
        "healthy": False,
        "checks": {},
        "problem": "no answer (connection refused)",
    }
    assert "no answer (connection refused)" in err
