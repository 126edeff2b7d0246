"""The systemd unit and its settings file that docs/deploy.md gives operators without containers.

Checked against the code they describe: systemd itself reads the unit (``systemd-analyze
verify``), the stop timeout covers the longest attempt the destinations' defaults allow (a
shorter one cuts an attempt off and it is sent again), reloading sends the signal the engine
reloads on, the service may write exactly where the settings file puts the store and the
destination files, and every setting in the file is one the engine knows.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from destinations.config import DestinationConfig
from integrator.engine import stop_budget_s
from integrator.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "integrator.service"
ENV_EXAMPLE = ROOT / "deploy" / "systemd" / "integrator.env.example"
STATE = Path("/var/lib/integrator")


def _service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser["Service"]


def _settings_file() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def test_systemd_reads_the_unit_without_a_complaint(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    # ExecStart must name a program that exists here; the rest of the unit is as shipped.
    program = shutil.which("true") or "/bin/true"
    unit = tmp_path / "integrator.service"
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace("/opt/integrator/bin/integrator", program),
        encoding="utf-8",
    )
    checked = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [
        line
        for line in (checked.stdout + checked.stderr).splitlines()
        if "integrator.service" in line and "EnvironmentFile" not in line
    ]
    assert checked.returncode == 0 and complaints == [], checked.stdout + checked.stderr


def test_the_stop_timeout_covers_the_longest_attempt() -> None:
    defaults = DestinationConfig.model_fields
    connect = float(defaults["connect_timeout"].default)
    ack = float(defaults["ack_timeout"].default)
    # Enhanced mode waits for two ACKs; the HTTP API and a store that does not answer add their
    # bounded waits (``stop_budget_s``).
    longest = stop_budget_s(connect + 2 * ack)
    service = _service()
    assert service["KillSignal"] == "SIGTERM"
    assert float(service["TimeoutStopSec"]) > longest


def test_reload_sends_the_signal_the_engine_reloads_destinations_on() -> None:
    assert _service()["ExecReload"] == "/bin/kill -HUP $MAINPID"
    runner = (ROOT / "integrator" / "runner.py").read_text(encoding="utf-8")
    assert "SIGHUP" in runner


def test_the_service_may_write_where_its_settings_put_the_store_and_the_destinations() -> None:
    service = _service()
    assert service["ProtectSystem"] == "strict"  # the rest of the file system is read-only
    assert service["StateDirectory"] == "integrator"  # /var/lib/integrator, the user's own
    assert service["StateDirectoryMode"] == "0700"
    settings = _settings_file()
    store = settings["INTEGRATOR_DATABASE_URL"].removeprefix("sqlite:///")
    assert Path(store).is_relative_to(STATE)
    assert Path(settings["INTEGRATOR_DESTINATIONS_DIR"]).is_relative_to(STATE)


def test_every_setting_in_the_file_is_one_the_engine_knows_and_takes(tmp_path: Path) -> None:
    settings = _settings_file()
    known = {f"INTEGRATOR_{name.upper()}" for name in Settings.model_fields}
    assert set(settings) <= known, set(settings) - known
    commented = {
        line.lstrip("# ").partition("=")[0]
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.startswith("# INTEGRATOR_")
    }
    assert commented <= known, commented - known
    values = {
        key.removeprefix("INTEGRATOR_").lower(): value
        for key, value in settings.items()
        if key not in ("INTEGRATOR_DATABASE_URL", "INTEGRATOR_DESTINATIONS_DIR")
    }
    Settings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        destinations_dir=tmp_path,
        **values,  # type: ignore[arg-type]
    )


def _systemd_value(raw: str) -> str:
    """A value as systemd's ``EnvironmentFile=`` reads it: one pair of single quotes taken
    off (inside them every character is itself), an unquoted value as written."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    return raw


def test_the_shell_reads_every_setting_as_systemd_does(tmp_path: Path) -> None:
    """People load the file into their shell (``set -a; . FILE; set +a``, docs/deploy.md) to
    run the commands beside the service. A value the shell reads otherwise than systemd (an
    unquoted ``&`` ends the assignment there and runs it in the background, so the setting is
    not set at all) sends the commands to another store than the engine's. Each line is read
    on its own, the ones left commented out too: they are the ones people switch on, in place
    of the line beside them."""
    sh = shutil.which("sh")
    if sh is None:
        pytest.skip("no POSIX shell (sh) on PATH")
    lines = [
        line.removeprefix("# ")
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.removeprefix("# ").startswith("INTEGRATOR_")
    ]
    assert len(lines) > 10
    misread = {}
    for number, line in enumerate(lines):
        key, _, value = line.partition("=")
        one = tmp_path / f"{number}.env"
        one.write_text(line + "\n", encoding="utf-8")
        loaded = subprocess.run(
            [
                sh,
                "-c",
                'set -a; . "$1"; set +a; printf %s "${' + key + '-(not set)}"',
                "sh",
                str(one),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={"PATH": "/usr/bin:/bin"},
        )
        if loaded.stdout != _systemd_value(value):
            misread[line] = loaded.stdout
    assert misread == {}


def test_the_api_listens_on_this_host_only_unless_it_speaks_tls() -> None:
    """Plain HTTP on every interface would carry API tokens, console passwords and patient
    data across the network readable: the file as shipped keeps the API on this host, for a
    reverse proxy with TLS (docs/deploy.md, TLS)."""
    settings = _settings_file()
    tls = "INTEGRATOR_HTTP_TLS_CERT_FILE" in settings and "INTEGRATOR_HTTP_TLS_KEY_FILE" in settings
    assert tls or settings["INTEGRATOR_HTTP_HOST"] in ("127.0.0.1", "::1", "localhost")
