"""The retention periods: the audit trail's defaults to five years (NEN 7513) and is never
shorter than the longest other period, unless it is kept for ever; a bad value is refused
naming ``INTEGRATOR_RETAIN_AUDIT_DAYS`` and the rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from integrator.lifecycle.retention import Retention
from integrator.settings import AUDIT_SETTING, Settings


def test_the_audit_trail_is_kept_five_years_by_default() -> None:
    assert Retention().audit_days == Settings().audit_days == 1826
    assert Retention.from_settings(Settings(retain_audit_days=400)).audit_days == 400
    assert Retention().to_json()["audit_days"] == 1826


def test_an_audit_period_shorter_than_another_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=AUDIT_SETTING) as refused:
        Retention(payload_days=90, dead_letter_days=120, audit_days=100)
    assert "INTEGRATOR_RETAIN_DEAD_LETTER_DAYS (120 days)" in str(refused.value)
    assert "at least as long as the longest other retention period" in str(refused.value)


def test_the_settings_refuse_it_too() -> None:
    with pytest.raises(ValidationError, match="INTEGRATOR_RETAIN_AUDIT_DAYS is 30 days"):
        Settings(retain_audit_days=30)  # the payload period is 90 days
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Settings(retain_audit_days=-1)


def test_a_negative_audit_period_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="audit_days"):
        Retention(audit_days=-1)


@pytest.mark.parametrize(
    "periods",
    [
        {"audit_days": 0, "payload_days": 4000},  # the audit trail kept for ever
        {"audit_days": 90, "payload_days": 90},  # as long as the longest is enough
        # Payloads kept for ever force nothing: the audit trail can still be pruned.
        {
            "audit_days": 60,
            "payload_days": 0,
            "dead_letter_days": 60,
            "rejected_days": 30,
            "unrouted_days": 0,
        },
        {
            "audit_days": 1,
            "payload_days": 0,
            "dead_letter_days": 0,
            "rejected_days": 0,
            "unrouted_days": 0,
        },
    ],
)
def test_these_periods_are_accepted(periods: dict[str, int]) -> None:
    assert Retention(**periods).audit_days == periods["audit_days"]


def test_an_unset_audit_period_gives_way_to_a_longer_one_set_for_other_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine keeping payloads ten years still starts after the audit period came in."""
    monkeypatch.setenv("INTEGRATOR_RETAIN_PAYLOAD_DAYS", "3650")
    assert Settings().audit_days == 3650
    assert Retention.from_settings(Settings()).audit_days == 3650
    # Set explicitly, the same shorter period is refused, naming it.
    monkeypatch.setenv("INTEGRATOR_RETAIN_AUDIT_DAYS", "1826")
    with pytest.raises(ValidationError, match="INTEGRATOR_RETAIN_AUDIT_DAYS is 1826 days"):
        Settings()


def test_a_period_past_the_calendar_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="payload_days: at most 36525 days"):
        Retention(payload_days=1_000_000, audit_days=0)
    with pytest.raises(ValidationError, match="at most 36525 days"):
        Settings(retain_audit_days=36526)
    assert Retention(payload_days=36525, audit_days=36525).payload_days == 36525


def test_the_unrouted_period_counts_for_the_audit_trail_too() -> None:
    """An unrouted event's payload goes by its own period; the trail that says so stays longer."""
    with pytest.raises(ValueError, match="INTEGRATOR_RETAIN_UNROUTED_DAYS"):
        Retention(payload_days=10, unrouted_days=400, audit_days=300)
    with pytest.raises(ValidationError, match="INTEGRATOR_RETAIN_UNROUTED_DAYS"):
        Settings(retain_unrouted_days=4000, retain_audit_days=3000)
    assert Settings(retain_unrouted_days=4000).audit_days == 4000
