"""The HTTP API over TLS: ``INTEGRATOR_HTTP_TLS_CERT_FILE`` and ``..._KEY_FILE``."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from integrator.engine_api import engine_running, engine_tls, engine_url
from integrator.settings import Settings
from tests.http.support import engine_process
from tests.integrator.test_cli import ROOT

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key."""
    directory = tmp_path_factory.mktemp("https")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "api.key", "-out", "api.pem", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        cwd=directory,
        check=True,
        capture_output=True,
    )  # fmt: skip
    return directory / "api.pem", directory / "api.key"


def test_certificate_and_key_go_together() -> None:
    with pytest.raises(ValidationError, match="set both or neither"):
        Settings(http_tls_cert_file=Path("api.pem"))
    assert not Settings().http_tls


def test_a_cli_client_of_a_plain_http_engine_trusts_no_certificate_at_all() -> None:
    """Not ``verify=False``: were the engine's address ever answered over TLS, the client
    would refuse every certificate, since it holds no trust anchor (and loads no CA bundle)."""
    context = engine_tls(Settings())
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integrator", "run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_one_without_the_other_exits_2_naming_both(env: dict[str, str]) -> None:
    env["INTEGRATOR_HTTP_TLS_KEY_FILE"] = "api.key"
    done = run(env)
    assert done.returncode == 2, done.stderr
    assert "INTEGRATOR_HTTP_TLS_CERT_FILE and INTEGRATOR_HTTP_TLS_KEY_FILE go together" in (
        done.stderr
    )


def test_a_key_that_does_not_load_exits_2_before_anything_started(
    env: dict[str, str], self_signed: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, _ = self_signed
    wrong = tmp_path / "wrong.key"
    wrong.write_text("not a key\n")
    env.update(INTEGRATOR_HTTP_TLS_CERT_FILE=str(cert), INTEGRATOR_HTTP_TLS_KEY_FILE=str(wrong))
    done = run(env)
    assert done.returncode == 2, done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines  # with the suite's json logs, one JSON line
    said = json.loads(lines[0])
    assert (said["event"], said["exit_code"]) == ("engine could not run", 2)
    assert said["reason"].startswith("cannot serve the HTTP API over TLS"), said
    assert "engine started" not in done.stderr


def test_the_api_speaks_https_and_the_cli_finds_it(
    env: dict[str, str], self_signed: tuple[Path, Path]
) -> None:
    cert, key = self_signed
    env.update(INTEGRATOR_HTTP_TLS_CERT_FILE=str(cert), INTEGRATOR_HTTP_TLS_KEY_FILE=str(key))
    with engine_process(env) as process:
        assert process.stderr is not None
        for line in process.stderr:
            record = json.loads(line)
            if record["event"] == "http api listening":
                assert record["tls"] is True
                break
        else:
            raise AssertionError("never said it listens")
        port = env["INTEGRATOR_HTTP_PORT"]
        trusted = ssl.create_default_context(cafile=str(cert))
        answer = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trusted)
        assert answer.json() == {"status": "ok"}
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz")  # no plain HTTP beside it
        settings = Settings(http_port=int(port), http_tls_cert_file=cert, http_tls_key_file=key)
        assert engine_url(settings) == f"https://127.0.0.1:{port}"
        assert asyncio.run(engine_running(settings))  # the CLI trusts exactly this certificate
        plain = Settings(http_port=int(port))
        assert not asyncio.run(engine_running(plain))
        process.terminate()
        assert process.wait(30) == 0
