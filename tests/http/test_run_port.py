"""``integrator run`` binds its HTTP port before it says it listens or starts delivering.

A port in use was logged as "http api listening", then the process exited 3; now it exits 1
with one line naming the address, before anything started.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from integrator.runner import exposed_in_clear
from tests.http.support import engine_process
from tests.integrator.support import settings_for
from tests.integrator.test_cli import ROOT

KEY = "a-test-search-key-of-enough-length"


@contextmanager
def occupied_port() -> Iterator[int]:
    """A loopback port another process listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_in_use_is_one_error_line_and_exit_1(env: dict[str, str]) -> None:
    with occupied_port() as port:
        # The console format's plain line (with json it is one JSON line: test_server_log_lines).
        env.update(
            INTEGRATOR_HTTP_PORT=str(port),
            INTEGRATOR_SEARCH_KEY=KEY,
            INTEGRATOR_LOG_FORMAT="console",
        )
        done = subprocess.run(
            [sys.executable, "-m", "integrator", "run"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0]
    assert lines[0].startswith("error:")
    assert "listening" not in output and "engine started" not in output


def test_listening_is_logged_once_the_port_answers(env: dict[str, str]) -> None:
    env["INTEGRATOR_SEARCH_KEY"] = KEY
    with engine_process(env) as process:
        assert process.stderr is not None
        events = []
        for line in process.stderr:
            events.append(json.loads(line)["event"])
            if events[-1] == "http api listening":
                break
        else:
            raise AssertionError(f"never said it listens: {events}")
        assert events.index("engine started") < events.index("http api listening")
        port = env["INTEGRATOR_HTTP_PORT"]
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz")
        assert answer.json() == {"status": "ok"}
        # The server's software and version are nobody's business: no `server: uvicorn`.
        assert "server" not in answer.headers, answer.headers
        process.terminate()
        assert process.wait(30) == 0


def _events_until_listening(env: dict[str, str]) -> list[dict[str, str]]:
    with engine_process(env) as process:
        assert process.stderr is not None
        events = []
        for line in process.stderr:
            assert line.startswith("{"), f"not a JSON log line: {line!r}"
            events.append(json.loads(line))
            if events[-1]["event"] == "http api listening":
                break
        process.terminate()
        assert process.wait(30) == 0
    return events


def test_links_on_a_wildcard_address_are_warned_of_once_at_start(env: dict[str, str]) -> None:
    """The console's and the API's invitations say nothing of it; the engine does, once."""
    env.update(INTEGRATOR_SEARCH_KEY=KEY, INTEGRATOR_PUBLIC_URL="http://0.0.0.0:8080")
    warned = [
        e for e in _events_until_listening(env) if e["event"] == "invitation links will not open"
    ]
    assert len(warned) == 1
    assert "INTEGRATOR_PUBLIC_URL" in warned[0]["problem"]
    assert warned[0]["level"] == "warning"


def test_links_on_a_reachable_address_are_not_warned_of(env: dict[str, str]) -> None:
    env.update(INTEGRATOR_SEARCH_KEY=KEY, INTEGRATOR_PUBLIC_URL="https://integrator.example.nl")
    events = _events_until_listening(env)
    assert "invitation links will not open" not in [e["event"] for e in events]


@pytest.mark.parametrize(
    ("host", "tls", "proxies", "exposed"),
    [
        ("127.0.0.1", False, None, False),
        ("::1", False, None, False),
        ("localhost", False, None, False),
        ("127.0.0.2", False, None, False),
        ("0.0.0.0", False, None, True),
        ("::", False, None, True),
        ("192.0.2.10", False, None, True),
        ("integrator.example.nl", False, None, True),
        ("0.0.0.0", True, None, False),  # the engine's own certificate
        ("0.0.0.0", False, "10.0.0.5", False),  # a TLS proxy named in front
    ],
)
def test_plain_http_beyond_this_machine_is_told_apart(
    tmp_path: Path, host: str, tls: bool, proxies: str | None, exposed: bool
) -> None:
    overrides: dict[str, object] = {"http_host": host, "trusted_proxies": proxies}
    if tls:
        overrides |= {
            "http_tls_cert_file": tmp_path / "cert.pem",
            "http_tls_key_file": tmp_path / "key.pem",
        }
    assert exposed_in_clear(settings_for(tmp_path, **overrides)) is exposed


def test_plain_http_on_every_interface_is_warned_of_once_at_start(env: dict[str, str]) -> None:
    """The image listens on 0.0.0.0: published without a TLS proxy, sign-ins, tokens and
    patient data cross the network readable, and the engine says so where the operator reads.
    The default (loopback) says nothing (the test above and the wildcard links' tests)."""
    env.update(INTEGRATOR_SEARCH_KEY=KEY, INTEGRATOR_HTTP_HOST="0.0.0.0")
    warned = [
        e
        for e in _events_until_listening(env)
        if e["event"] == "http api reachable over the network without TLS"
    ]
    assert len(warned) == 1
    assert warned[0]["level"] == "warning" and warned[0]["host"] == "0.0.0.0"
    assert "INTEGRATOR_TRUSTED_PROXIES" in warned[0]["problem"]
