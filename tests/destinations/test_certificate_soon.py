"""One rule for when a certificate's expiry is a warning (``cert_expiry.expires_soon``), where
the alert ``IntegratorCertificateExpiresSoon`` fires: ``destinations show``, the API's answer and
the console's page warn by it, and the alert's rule says the same number of days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from destinations.cert_expiry import SOON_DAYS, expires_soon

ALERTS = Path(__file__).resolve().parents[2] / "config" / "prometheus" / "alerts.yml"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_within_the_days_an_expiry_is_soon_and_not_a_second_after() -> None:
    assert expires_soon(NOW - timedelta(days=3), NOW)  # expired
    assert expires_soon(NOW + timedelta(days=SOON_DAYS) - timedelta(seconds=1), NOW)
    assert not expires_soon(NOW + timedelta(days=SOON_DAYS), NOW)


def test_the_alert_fires_at_the_same_number_of_days() -> None:
    rules = [
        rule
        for group in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "IntegratorCertificateExpiresSoon"
    ]
    [rule] = rules
    assert rule["expr"].endswith(f"< {SOON_DAYS} * 86400"), rule["expr"]
    assert f"within {SOON_DAYS} days" in rule["annotations"]["summary"]
