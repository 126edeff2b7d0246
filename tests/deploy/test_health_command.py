"""``integrator health``: the container's health check says no when no engine answers."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading

from tests.http.support import ROOT


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
        assert f"127.0.0.1:{port}{path}: no answer" in done.stderr


class _NotReady(http.server.BaseHTTPRequestHandler):
    """Answers as an engine with its broker link down answers /readyz (integrator.scrape)."""

    def do_GET(self) -> None:
        body = json.dumps(
            {"status": "not ready", "checks": {"store": "ok", "transport": "disconnected"}}
        ).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_not_ready_names_the_checks_that_failed_and_is_exit_1(env: dict[str, str]) -> None:
    port = int(env["INTEGRATOR_HTTP_PORT"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _NotReady)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "integrator", "health", "--ready", "--timeout", "5"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"127.0.0.1:{port}/readyz: 503 (transport: disconnected)" in done.stderr
    assert "store" not in done.stderr  # only what failed


class _Ready(_NotReady):
    def do_GET(self) -> None:
        body = json.dumps({"status": "ready", "checks": {"store": "ok", "transport": "ok"}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())


def _health_json(env: dict[str, str], handler: type[_NotReady] | None) -> tuple[int, str, str]:
    port = int(env["INTEGRATOR_HTTP_PORT"])
    server = None
    if handler is not None:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "integrator", "health", "--ready", "--json", "--timeout", "3"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    return done.returncode, done.stdout, done.stderr


def test_json_gives_the_verdict_and_every_check_for_a_monitoring_script(
    env: dict[str, str],
) -> None:
    url = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}/readyz"
    code, out, err = _health_json(env, _Ready)
    assert code == 0, out + err
    assert json.loads(out) == {
        "url": url,
        "status": 200,
        "healthy": True,
        "checks": {"store": "ok", "transport": "ok"},
    }
    code, out, err = _health_json(env, _NotReady)
    assert code == 1, out + err
    assert json.loads(out) == {
        "url": url,
        "status": 503,
        "healthy": False,
        "checks": {"store": "ok", "transport": "disconnected"},
    }
    assert "503 (transport: disconnected)" in err  # the error line stays on stderr
    code, out, err = _health_json(env, None)
    assert code == 1, out + err
    assert json.loads(out) == {"url": url, "status": None, "healthy": False, "checks": {}}
    assert "no answer" in err
