"""The command line is not held to the TLS directory (``INTEGRATOR_TLS_DIR``): it runs on the
server as whoever has its shell, who can read the files anyway. ``destinations add`` and
``update`` take a TLS file anywhere, checked as before; the API would refuse the same path
(``tests/http/test_destination_tls_dir.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli_in_process import run_cli as cli
from tests.destinations.certificate_files import tls_files
from tests.services import free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")


def test_add_and_update_take_tls_files_outside_the_tls_directory(
    env: dict[str, str], tmp_path: Path
) -> None:
    tls_dir = tmp_path / "tls"
    inside = tls_files(tls_dir)
    elsewhere = tls_files(tmp_path / "pki")
    env = {**env, "INTEGRATOR_TLS_DIR": str(tls_dir)}
    definition = (
        "id: lab\nname: Lab\nproviders: [lab-west]\nhost: 127.0.0.1\n"
        f"port: {free_port()}\nmessages: {{referral: ref-v2}}\n"
        f"tls: {{ca_file: {elsewhere['ca_file']}}}\n"
    )
    added = cli("destinations", "add", "-", env=env, input=definition)
    assert added.returncode == 0, added.stderr
    moved = cli(
        "destinations", "update", "lab", "--set", f"tls.ca_file={inside['ca_file']}", env=env
    )
    assert moved.returncode == 0, moved.stderr
    back = cli(
        "destinations", "update", "lab", "--set", f"tls.ca_file={elsewhere['ca_file']}", env=env
    )
    assert back.returncode == 0, back.stderr
    text = (Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / "lab.yaml").read_text()
    assert elsewhere["ca_file"] in text
    # Checked as before, wherever it lies.
    gone = cli(
        "destinations", "update", "lab", "--set", f"tls.ca_file={tmp_path}/gone.pem", env=env
    )
    assert gone.returncode == 2
    assert "tls.ca_file: file does not exist" in " ".join(gone.stderr.split())
