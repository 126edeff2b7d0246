"""``integrator health``: the container's health check says no when no engine answers."""

from __future__ import annotations

import subprocess
import sys

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
