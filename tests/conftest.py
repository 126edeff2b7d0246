"""Shared fixtures: sample events and the real-service guards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "config" / "samples"


def load_sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def referral_data() -> dict[str, Any]:
    return load_sample("referral")


@pytest.fixture
def diagnostic_request_data() -> dict[str, Any]:
    return load_sample("diagnostic_request")
