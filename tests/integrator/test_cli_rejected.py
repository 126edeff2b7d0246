"""``integrator rejected list|show``: input that failed validation can be looked at again.

``submit`` answered "kept as rejected event <id>" and docs promised support could look at it,
but nothing showed it. A listing names the broken rules and never a byte of the body; showing
one body (which may hold patient data) is audited first, as a message or event in full is.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrator.store import Store
from tests.integrator.test_cli_reading import cli, env_for
from tests.store.factories import StepClock

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
    # Each rule worded as `rejected show` and the API's listing word it (docs/support.md).
    assert by_id[first]["reason"] == [
        {"path": "event_id", "rule": "uuid", "message": "must be a UUID"}
    ]
    assert by_id[second]["reason"] == [{"path": "$", "rule": "json", "message": "not JSON"}]
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


def _over_three_days(tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """An http piece three days old, and an amqp and a cli piece of an hour ago, by source."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    clock = StepClock(now=datetime.now(UTC) - timedelta(days=3))

    async def fill() -> dict[str, str]:
        async with await Store.open(url, clock=clock) as store:
            kept = {"http": await store.reject_event(b"{}", "http", [])}
            clock.now = datetime.now(UTC) - timedelta(hours=1)
            for source in ("amqp", "cli"):
                kept[source] = await store.reject_event(b"{}", source, [])
            return kept

    return env_for(url, tmp_path), asyncio.run(fill())


def test_since_and_source_narrow_the_listing(tmp_path: Path) -> None:
    env, kept = _over_three_days(tmp_path)

    def listed(*terms: str) -> list[str]:
        answer = cli(env, "rejected", "list", *terms, "--json")
        assert answer.exit_code == 0, answer.output
        return [r["id"] for r in json.loads(answer.stdout)]

    assert listed("--since", "2h") == [kept["cli"], kept["amqp"]]
    assert listed("--until", "2h") == [kept["http"]]
    assert listed("--since", "2h", "--source", "amqp") == [kept["amqp"]]
    assert listed("--source", "http") == [kept["http"]]
    day = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
    assert len(listed("--since", day)) == 3


def test_a_cut_listing_says_how_many_match_in_all(tmp_path: Path) -> None:
    env, kept = _over_three_days(tmp_path)
    table = cli(env, "rejected", "list", "--limit", "1")
    assert table.exit_code == 0, table.output
    assert "Rejected input (1 of 3 shown)" in table.stdout
    as_json = cli(env, "rejected", "list", "--limit", "1", "--json")
    assert [r["id"] for r in json.loads(as_json.stdout)] == [kept["cli"]]
    assert "1 of 3 shown" in as_json.stderr
    assert "Rejected input (2 shown)" in cli(env, "rejected", "list", "--since", "2h").stdout


def test_a_bad_source_or_period_is_refused_naming_what_is_allowed(tmp_path: Path) -> None:
    env, _ = _over_three_days(tmp_path)
    refused = cli(env, "rejected", "list", "--source", "pigeon")
    assert refused.exit_code == 2
    said = " ".join(refused.stderr.split())
    assert "--source" in said and "http, cli, amqp, demo" in said and "pigeon" not in said
    refused = cli(env, "rejected", "list", "--since", "yesterday")
    assert refused.exit_code == 2
    assert "--since" in refused.stderr and "yesterday" not in refused.stderr


def test_rejected_input_pruned_by_retention_is_said_to_be_deleted_so(tmp_path: Path) -> None:
    """Rejected input goes whole after its period; the id support was given then names
    nothing, and 'no rejected input with id …' alone read as a wrong id."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    long_ago = datetime.now(UTC) - timedelta(days=40)

    async def reject_long_ago() -> str:
        async with await Store.open(url, clock=lambda: long_ago) as store:
            return await store.reject_event(
                json.dumps(BODY).encode(),
                "http",
                [{"path": "event_id", "rule": "uuid", "message": "must be a UUID"}],
            )

    gone = asyncio.run(reject_long_ago())
    env = env_for(url, tmp_path)
    pruned = cli(env, "prune", "--json")
    assert pruned.exit_code == 0, pruned.output
    assert json.loads(pruned.stdout)["counts"]["rejected"] == 1
    for given in (gone, gone[:8]):
        shown = cli(env, "rejected", "show", given)
        assert shown.exit_code == 2, shown.output
        said = shown.stderr.replace("\n", " ")
        assert "rejected input is deleted after its retention period" in said
        assert "INTEGRATOR_RETAIN_REJECTED_DAYS" in said and "123456782" not in shown.output
