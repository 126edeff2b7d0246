"""``integrator audit summary``: the access-log review (NEN 7513) on the server, as JSON and as
a table; a bad period is refused naming the options; every summary is recorded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from integrator.cli import app
from integrator.settings import Settings
from integrator.store import AuditFilter, AuditRecord, Store

SEARCH_KEY = "audit-summary-search-key"
ANNA, BERT = "person:anna@example.nl", "token:lab-desk"
BSN = "999999990"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_TIMEZONE": "Europe/Amsterdam",
        "USER": "piet",
        "COLUMNS": "200",
    }


@pytest.fixture
def cli(env: dict[str, str]) -> Any:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def _fill(env: dict[str, str]) -> None:
    key = Settings(search_key=SEARCH_KEY).bsn_hash

    async def fill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for bsn, why in ((BSN, "GP called"), (BSN, None), ("111222333", None)):
                await store.add_audit(
                    ANNA,
                    "patient_data.view",
                    "m-1",
                    reason=why,
                    details={"view": "message", "bsn_hash": key(bsn)},
                )
            await store.add_audit(
                BERT, "events.export", "events.csv", details={"terms": {"bsn_hash": key(BSN)}}
            )
            # A listing without a BSN term: no patient's data, and no patient named.
            await store.add_audit(
                BERT, "messages.export", "messages.csv", details={"terms": {"status": "dead"}}
            )
            await store.add_audit(BERT, "destination.update", "noord")

    asyncio.run(fill())


def _summaries(env: dict[str, str]) -> list[AuditRecord]:
    async def read() -> list[AuditRecord]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await store.list_audit(AuditFilter(action="audit.summary"))

    return asyncio.run(read())


def test_json_gives_each_actor_and_the_total(cli: Any, env: dict[str, str]) -> None:
    _fill(env)
    result = cli("audit", "summary", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    rows = [(a["actor"], a["views"], a["exports"], a["patients"]) for a in body["actors"]]
    assert rows == [(ANNA, 3, 0, 2), (BERT, 0, 2, 1)]
    total = body["total"]
    # The patient Anna viewed and Bert exported is one patient.
    assert (total["views"], total["exports"], total["patients"], total["actors"]) == (3, 2, 2, 2)
    # Bert's exports apart: by BSN (patient data) and a listing without one.
    split = [(a["actor"], a["exports_by_bsn"], a["exports_without_bsn"]) for a in body["actors"]]
    assert split == [(ANNA, 0, 0), (BERT, 1, 1)]
    assert (total["exports_by_bsn"], total["exports_without_bsn"]) == (1, 1)
    # Who looked without saying why (docs/product.md §8): one of Anna's views said it.
    assert [(a["actor"], a["without_reason"]) for a in body["actors"]] == [(ANNA, 2), (BERT, 2)]
    assert total["without_reason"] == 4
    assert body["start"].endswith("+01:00") and body["end"] > body["start"]
    assert BSN not in result.stdout

    other = cli("audit", "summary", "--action", "Destination.Update", "--json")
    assert other.exit_code == 0, other.output
    assert json.loads(other.stdout)["actions"] == ["destination.update"]
    assert [(a["actor"], a["entries"]) for a in json.loads(other.stdout)["actors"]] == [(BERT, 1)]


def test_the_table_lists_the_most_views_first_with_a_total(cli: Any, env: dict[str, str]) -> None:
    _fill(env)
    result = cli("audit", "summary", "--since", "2000-01-01")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("actor"))
    assert lines[header].split()[:10] == [
        *("actor", "views", "patients", "exports", "by", "BSN"),
        *("other", "exports", "no", "reason"),
    ]
    assert lines[header + 1].split()[:6] == [ANNA, "3", "2", "0", "0", "2"]
    assert lines[header + 2].split()[:6] == [BERT, "0", "1", "1", "1", "2"]
    assert lines[header + 3].split()[:8] == ["total", "(2", "actors)", "3", "2", "1", "1", "4"]
    assert "2000-01-01T00:00:00+01:00" in result.stdout  # the period it covers
    # A listing's export holds no patient data: the title does not say it was exported.
    assert "Views of patient data and exports, " in result.stdout
    assert "Patient data viewed and exported" not in result.stdout
    # Views and exports are to say why; a summary of another action has no such column.
    other = cli("audit", "summary", "--since", "2000-01-01", "--action", "destination.update")
    assert other.exit_code == 0 and "reason" not in other.stdout, other.output


def test_the_summary_is_recorded_as_the_local_user(cli: Any, env: dict[str, str]) -> None:
    _fill(env)
    assert cli("audit", "summary", "--since", "30d", "--json").exit_code == 0
    [entry] = _summaries(env)
    assert entry.actor.startswith("local:")
    assert entry.details["actors"] == 2
    assert entry.details["actions"] == ["patient_data.view", "messages.export", "events.export"]
    assert "source" not in entry.details


def test_a_bad_period_is_refused_naming_the_options(cli: Any, env: dict[str, str]) -> None:
    _fill(env)
    backwards = cli("audit", "summary", "--since", "2026-12-02", "--until", "2026-12-01")
    assert backwards.exit_code == 2
    assert backwards.stderr.startswith("error: --since and --until: the period starts at or after")
    not_a_time = cli("audit", "summary", "--until", "yesterday-ish")
    assert not_a_time.exit_code == 2
    assert not_a_time.stderr.startswith("error: --until: ") and "ish" not in not_a_time.stderr
    unknown = cli("audit", "summary", "--action", "patient.view")
    assert unknown.exit_code == 2 and "--action: not an audit action" in unknown.stderr
    assert _summaries(env) == []
