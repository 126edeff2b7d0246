"""``integrator rejected list|show``: input that failed validation can be looked at again.

``submit`` answered "kept as rejected event <id>" and docs promised support could look at it,
but nothing showed it. A listing names the broken rules and never a byte of the body; showing
one body (which may hold patient data) is audited first, as a message or event in full is.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from integrator.store import Store
from tests.integrator.test_cli_reading import cli, env_for, restore_logging

__all__ = ["restore_logging"]  # the fixture, used here as there

BODY = {"event_id": "not-a-uuid", "type": "referral", "patient": {"bsn": "123456782"}}


def _two_rejected(tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> list[str]:
        async with await Store.open(url) as store:
            first = await store.reject_event(
                json.dumps(BODY).encode(),
                "http",
                [{"path": "event_id", "rule": "uuid", "message": "must be a UUID"}],
            )
            second = await store.reject_event(
                b"\xff not json", "amqp", [{"path": "$", "rule": "json", "message": "not JSON"}]
            )
            return [first, second]

    return env_for(url, tmp_path), asyncio.run(fill())


def test_the_listing_names_the_rules_and_no_byte_of_the_body(tmp_path: Path) -> None:
    env, (first, second) = _two_rejected(tmp_path)
    listed = cli(env, "rejected", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert {r["id"] for r in rows} == {first, second}
    by_id = {r["id"]: r for r in rows}
    assert by_id[first]["problems"] == ["event_id: uuid"]
    assert by_id[first]["source"] == "http" and by_id[second]["source"] == "amqp"
    assert "123456782" not in listed.stdout and "body" not in rows[0]
    table = cli(env, "rejected", "list")
    assert table.exit_code == 0 and "event_id: uuid" in table.stdout
    assert "123456782" not in table.stdout


def test_showing_a_body_records_the_view_first(tmp_path: Path) -> None:
    env, (first, _) = _two_rejected(tmp_path)
    shown = cli(env, "rejected", "show", first[:8], "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert json.loads(detail["body"]) == BODY
    assert detail["reason"] == [{"path": "event_id", "rule": "uuid", "message": "must be a UUID"}]
    audit = cli(env, "audit", "list", "--json")
    views = [e for e in json.loads(audit.stdout) if e["action"] == "patient_data.view"]
    assert [(e["target"], e["details"]["view"]) for e in views] == [(first, "rejected")]
    assert views[0]["actor"].startswith("local:")
    assert "Body as it arrived" in cli(env, "rejected", "show", first).stdout


def test_an_unknown_id_is_refused_and_records_nothing(tmp_path: Path) -> None:
    env, _ = _two_rejected(tmp_path)
    refused = cli(env, "rejected", "show", "00000000")
    assert refused.exit_code == 2
    assert "no rejected input" in " ".join(refused.stderr.split())
    audit = cli(env, "audit", "list", "--json")
    assert not [e for e in json.loads(audit.stdout) if e["action"] == "patient_data.view"]
