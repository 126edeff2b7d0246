"""Parsed sample events (and their richer variants) for the mapping tests."""

from __future__ import annotations

from typing import Any

import pytest

from schemas import DiagnosticRequest, Referral, parse_event
from tests.mappings import variants


@pytest.fixture
def referral(referral_data: dict[str, Any]) -> Referral:
    event = parse_event(referral_data)
    assert isinstance(event, Referral)
    return event


@pytest.fixture
def full_referral(referral_data: dict[str, Any]) -> Referral:
    event = parse_event(variants.full_referral(referral_data))
    assert isinstance(event, Referral)
    return event


@pytest.fixture
def diagnostic_request(diagnostic_request_data: dict[str, Any]) -> DiagnosticRequest:
    event = parse_event(diagnostic_request_data)
    assert isinstance(event, DiagnosticRequest)
    return event


@pytest.fixture
def full_diagnostic_request(diagnostic_request_data: dict[str, Any]) -> DiagnosticRequest:
    event = parse_event(variants.full_diagnostic_request(diagnostic_request_data))
    assert isinstance(event, DiagnosticRequest)
    return event
