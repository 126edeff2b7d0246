"""Shared fixtures: sample events and the real-service guards."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "config" / "samples"


# Tests read ``integrator``'s piped output, which is as wide as ``COLUMNS`` says (else 160).
# pytest-xdist's workers (``make test`` runs two) start with ``COLUMNS=80`` of their own; without
# this, the same tests would see narrower tables there than in a plain run. Removed at import,
# before any test module imports the CLI (its consoles take their width then).
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


def load_sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def referral_data() -> dict[str, Any]:
    return load_sample("referral")


@pytest.fixture
def diagnostic_request_data() -> dict[str, Any]:
    return load_sample("diagnostic_request")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of an ``integrator`` process with its own store, files and port."""
    dest_dir = tmp_path / "destinations"
    dest_dir.mkdir()
    values = dict(os.environ)
    values.update(
        {
            "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path}/store.db",
            "INTEGRATOR_DESTINATIONS_DIR": str(dest_dir),
            "INTEGRATOR_HTTP_PORT": str(free_port()),
            "INTEGRATOR_LOG_FORMAT": "json",
        }
    )
    return values
