"""TLS files that do not load: refused when a definition names them, and said by a test
message when they stopped loading after they were accepted (never a traceback)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from integrator.store import AuditFilter, AuditRecord, Store
from tests.cli_in_process import run_cli as cli
from tests.destinations.test_tls import _ca
from tests.services import free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")

DEST = "ziekenhuis-noord"
GARBAGE = "not a certificate: BSN 123456782\n"


def definition(ca_file: Path | str) -> str:
    return (
        f"id: {DEST}\nname: Ziekenhuis Noord\nproviders: [{DEST}]\nhost: 127.0.0.1\n"
        f"port: {free_port()}\nmessages: {{referral: ref-v2}}\n"
        f"tls: {{ca_file: {ca_file}, server_name: localhost}}\n"
    )


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    directory = tmp_path / "pki"
    directory.mkdir()
    _ca(directory, "ca")
    return directory


def _tests_audited(env: dict[str, str]) -> list[AuditRecord]:
    async def go() -> list[AuditRecord]:
        store = await Store.open(env["INTEGRATOR_DATABASE_URL"])
        try:
            return await store.list_audit(AuditFilter(action="destination.test"))
        finally:
            await store.close()

    return asyncio.run(go())


def test_add_refuses_a_ca_file_that_is_no_certificate(env: dict[str, str], pki: Path) -> None:
    junk = pki / "junk.pem"
    junk.write_text(GARBAGE)
    refused = cli("destinations", "add", "-", env=env, input=definition(junk))
    assert refused.returncode == 2
    said = " ".join(refused.stderr.split())
    assert "tls.ca_file: could not be loaded as CA certificates (NO_CERTIFICATE_OR_CRL_FOUND)" in (
        said
    )
    assert "123456782" not in refused.stderr + refused.stdout  # never the file's content
    assert not (Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / f"{DEST}.yaml").exists()


def test_a_test_message_with_a_ca_file_no_longer_loading_fails_saying_why(
    env: dict[str, str], pki: Path
) -> None:
    added = cli("destinations", "add", "-", env=env, input=definition(pki / "ca.pem"))
    assert added.returncode == 0, added.stderr
    (pki / "ca.pem").write_text(GARBAGE)  # replaced after it was accepted

    tested = cli("destinations", "test", DEST, "--json", env=env)
    assert tested.returncode == 1, tested.stderr
    result = json.loads(tested.stdout)
    assert result["outcome"] == "failed"
    assert result["error"].startswith("TlsSetupError: tls.ca_file could not be loaded (")
    assert "123456782" not in tested.stdout + tested.stderr
    [entry] = _tests_audited(env)
    assert entry.details["outcome"] == "failed"

    table = cli("destinations", "test", DEST, env=env)
    assert table.returncode == 1
    assert "failed" in table.stdout and "tls.ca_file could not be loaded" in table.stdout


def test_a_relative_tls_path_is_refused_wherever_the_command_runs(
    env: dict[str, str], pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from the directory holding ca.pem, ``add`` found it; the engine, elsewhere, did not
    and refused the file. Refused by both now, wherever they run."""
    monkeypatch.chdir(pki)
    assert Path("ca.pem").is_file()
    refused = cli("destinations", "add", "-", env=env, input=definition("ca.pem"))
    assert refused.returncode == 2
    assert "tls.ca_file: must be an absolute path" in " ".join(refused.stderr.split())
    assert not (Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / f"{DEST}.yaml").exists()
    # the same file written by hand: refused by what the engine reads it with, as by the tools
    (Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / f"{DEST}.yaml").write_text(definition("ca.pem"))
    listed = cli("destinations", "list", "--json", env=env)
    [row] = json.loads(listed.stdout)
    assert row["state"] == "broken"
    assert (row["problem"]["key"], row["problem"]["rule"]) == (
        "tls.ca_file",
        "must be an absolute path (a relative one is read from whatever directory a command "
        "runs in, which is not the engine's)",
    )
