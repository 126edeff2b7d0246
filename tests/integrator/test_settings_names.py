"""``INTEGRATOR_*`` variables that nothing reads are refused, not ignored.

Ignored, ``INTEGRATOR_DATABSE_URL`` (one letter off) started the engine on a new, empty SQLite
store in the working directory, with no warning, while the real store's queued messages waited;
``INTEGRATOR_AMQP_ULR`` ran it on the embedded transport and ``INTEGRATOR_RETAIN_PAYLOAD_DAY``
kept payloads for the default 90 days. Now every command that reads the settings exits 2 naming
each unknown variable and the setting it probably meant, never its value (it may be a secret).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.engine_api import TOKEN_VARIABLE
from integrator.settings import OTHER_VARIABLES, known_variables, unknown_variables
from tests.cli_in_process import run_cli as cli
from tests.integrator.support import settings_for
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "samples"
SECRET = "pw-that-must-not-show"

MISSPELT = {
    "INTEGRATOR_DATABSE_URL": f"postgresql+asyncpg://integrator:{SECRET}@db.example/integrator",
    "INTEGRATOR_AMQP_ULR": f"amqp://integrator:{SECRET}@mq.example/",
    "INTEGRATOR_RETAIN_PAYLOAD_DAY": "7",
}
MEANT = {
    "INTEGRATOR_DATABSE_URL": "INTEGRATOR_DATABASE_URL",
    "INTEGRATOR_AMQP_ULR": "INTEGRATOR_AMQP_URL",
    "INTEGRATOR_RETAIN_PAYLOAD_DAY": "INTEGRATOR_RETAIN_PAYLOAD_DAYS",
}


def test_each_unknown_variable_is_named_with_the_setting_it_probably_meant() -> None:
    environ = {**MISSPELT, "INTEGRATOR_XYZZY": "1", "PATH": "/usr/bin", "OTHER_DATABSE_URL": "x"}
    assert unknown_variables(environ) == [
        "INTEGRATOR_AMQP_ULR: not a setting (did you mean INTEGRATOR_AMQP_URL?)",
        "INTEGRATOR_DATABSE_URL: not a setting (did you mean INTEGRATOR_DATABASE_URL?)",
        "INTEGRATOR_RETAIN_PAYLOAD_DAY: not a setting (did you mean "
        "INTEGRATOR_RETAIN_PAYLOAD_DAYS?)",
        "INTEGRATOR_XYZZY: not a setting",
    ]


def test_every_variable_the_project_reads_is_known() -> None:
    environ = dict.fromkeys(known_variables(), "x")
    # pydantic-settings reads settings whatever the case of their name.
    environ["integrator_database_url"] = "x"
    assert unknown_variables(environ) == []
    assert TOKEN_VARIABLE in OTHER_VARIABLES and "INTEGRATOR_EVENT_LOOP" in OTHER_VARIABLES


def test_a_variable_read_outside_the_settings_counts_only_as_written() -> None:
    """``os.environ.get("INTEGRATOR_TOKEN")`` does not see ``integrator_token``."""
    assert unknown_variables({"integrator_token": "t"}) == [
        "integrator_token: not a setting (did you mean INTEGRATOR_TOKEN?)"
    ]


# Names in these files that are no variable: fragments ("INTEGRATOR_RETAIN_*") end in "_", and
# the examples of a refusal are followed by it.
_NAME = re.compile(r"\bINTEGRATOR_[A-Z0-9_]*[A-Z0-9]\b(?!: not a setting)")


def test_no_file_of_the_project_uses_a_variable_nothing_reads() -> None:
    """The docs, deployment files, Makefile, CI script, benchmarks and tests (which set the
    variables of the processes they start) name only variables the engine or the CLI reads:
    otherwise the command they describe or start would now be refused."""
    files = [
        path
        for folder in ("integrator", "tests", "bench", "docs", "deploy", ".ci")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and path.suffix not in {".pyc", ".db"}
    ]
    files += [ROOT / name for name in ("Makefile", "README.md", "compose.yaml", "Dockerfile")]
    files += [ROOT / "deploy.env.example"]
    known = known_variables()
    stray = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        if path.exists() and path != Path(__file__)
        for name in _NAME.findall(path.read_text(encoding="utf-8", errors="replace"))
        if name not in known
    }
    assert sorted(stray) == []


def test_run_refuses_misspelt_variables_before_it_creates_anything(tmp_path: Path) -> None:
    """The finding: in an empty directory, with the store's variable misspelt, ``run`` made
    ``./var/integrator.db`` and its search key and started on them. A process with a time limit:
    without the refusal it would run on."""
    (tmp_path / "config" / "destinations").mkdir(parents=True)
    env = {**os.environ, **MISSPELT, "INTEGRATOR_HTTP_PORT": str(free_port())}
    env.pop("INTEGRATOR_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "integrator", "run"],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: bad settings: ")
    for wrong, meant in MEANT.items():
        assert f"{wrong}: not a setting (did you mean {meant}?)" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "db.example" not in result.stderr and "7" not in result.stderr.replace("\n", "")
    assert not (tmp_path / "var").exists()


def test_submit_refuses_them_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``submit`` would create the default store too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config" / "destinations").mkdir(parents=True)
    result = cli("submit", str(SAMPLES / "referral.json"), env=MISSPELT)
    assert result.returncode == 2, result.stdout + result.stderr
    for wrong, meant in MEANT.items():
        assert f"{wrong}: not a setting (did you mean {meant}?)" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert not (tmp_path / "var").exists()


def test_unknown_variables_and_malformed_values_are_named_together(env: dict[str, str]) -> None:
    result = cli("messages", "list", env={**env, "INTEGRATOR_HTTP_PORT": "eighty", **MISSPELT})
    assert result.returncode == 2
    assert "INTEGRATOR_DATABSE_URL: not a setting" in result.stderr
    assert "INTEGRATOR_HTTP_PORT: " in result.stderr
    assert SECRET not in result.stderr and "eighty" not in result.stderr


def test_health_refuses_them_too(env: dict[str, str]) -> None:
    result = cli(
        "health", env={**env, "INTEGRATOR_DATABSE_URL": MISSPELT["INTEGRATOR_DATABSE_URL"]}
    )
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    # Named, not only counted: it sent the operator to `integrator run` to learn which.
    meant = MEANT["INTEGRATOR_DATABSE_URL"]
    assert f"INTEGRATOR_DATABSE_URL: not a setting (did you mean {meant}?)" in said
    assert SECRET not in result.stderr


def test_a_correct_environment_still_works(env: dict[str, str]) -> None:
    """Every variable the CLI reads, settings or not, in its ordinary spelling."""
    env = {**env, "INTEGRATOR_TOKEN": "unused", "INTEGRATOR_EVENT_LOOP": "asyncio"}
    env["INTEGRATOR_TIMEZONE"] = "Europe/Amsterdam"
    result = cli("submit", "--json", str(SAMPLES / "referral.json"), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["accepted"] is True


async def test_the_engine_started_line_names_the_store_and_the_transport(tmp_path: Path) -> None:
    catalog = build_catalog((), today=date(2026, 11, 30))
    engine = Engine(settings_for(tmp_path), catalog=catalog)
    with capture_logs() as logs:
        await engine.start()
    try:
        [started] = [e for e in logs if e["event"] == "engine started"]
        location = engine.store.location
    finally:
        await engine.stop()
    expected: dict[str, Any] = {"transport": "embedded", "destinations": 0}
    assert {k: started[k] for k in expected} == expected
    # The store by its file, not only its kind: a mistyped path shows here.
    assert started["store"] == location and str(tmp_path / "store.db") in location
