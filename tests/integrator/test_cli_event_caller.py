"""``integrator events list|show`` name who sent each accepted event (``caller``), and
``events list --caller`` finds what one sender brought in (docs/product.md §2).

``submit`` without a running engine keeps its events with the command's user
(``local:<user>``, as the audit log names the CLI); an event accepted before the store kept
callers shows ``-`` and ``null``. A ``--caller`` in no caller's form is refused, naming the
forms (a token's bare name told to put ``token:`` first), never found empty; a BSN typed there
is refused as in any term that is not ``--bsn``, never echoed.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from integrator.store import Store
from tests.cli_in_process import run_cli as cli
from tests.store.factories import make_event


def _submitted(env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]) -> str:
    """An event submitted as user anna into the store; its id."""
    event = copy.deepcopy(referral_data)
    event["event_id"] = str(uuid.uuid4())
    path = tmp_path / "referral.json"
    path.write_text(json.dumps(event))
    submitted = cli("submit", "--json", str(path), env={**env, "USER": "anna"})
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    return str(event["event_id"])


def _kept_before_callers(env: dict[str, str]) -> str:
    """An event as a store before callers were kept holds it: none."""

    async def accept() -> str:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            event = make_event(zd_number="ZD100000099")
            assert await store.accept_event(event, [])
            return event.id

    return asyncio.run(accept())


def test_the_listing_show_and_csv_name_who_sent_each_event(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    by_anna = _submitted(env, tmp_path, referral_data)
    unnamed = _kept_before_callers(env)
    listed = cli("events", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert {e["id"]: e["caller"] for e in json.loads(listed.stdout)} == {
        by_anna: "local:anna",
        unnamed: None,
    }
    wide = cli("events", "list", env={**env, "COLUMNS": "200"})
    [_title, header, *rows] = wide.stdout.splitlines()
    assert header.split()[-1] == "caller"
    row_of = {row.split()[0]: row.split() for row in rows if row.strip()}
    assert row_of[by_anna[:8]][-1] == "local:anna" and row_of[unnamed[:8]][-1] == "-"

    shown = cli("events", "show", by_anna, "--json", env=env)
    assert json.loads(shown.stdout)["caller"] == "local:anna"
    table = cli("events", "show", by_anna, env={**env, "COLUMNS": "160"})
    assert ["caller", "local:anna"] in _cells(table)
    older = cli("events", "show", unnamed, env={**env, "COLUMNS": "160"})
    assert ["caller", "-"] in _cells(older)

    exported = cli("events", "list", "--csv", env=env)
    rows_csv = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert {r["event_id"]: r["caller"] for r in rows_csv} == {by_anna: "local:anna", unnamed: ""}


def test_caller_finds_what_one_sender_brought_in(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    by_anna = _submitted(env, tmp_path, referral_data)
    _kept_before_callers(env)
    found = cli("events", "list", "--caller", "local:anna", "--json", env=env)
    assert found.returncode == 0, found.stderr
    assert [e["id"] for e in json.loads(found.stdout)] == [by_anna]
    none = cli("events", "list", "--caller", "token:ci-intake", "--json", env=env)
    assert none.returncode == 0 and json.loads(none.stdout) == []


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (
            "ci-intake",
            "--caller: not a caller: callers are named token:NAME, local:USER, amqp "
            "or demo; for a token, put token: first",
        ),
        (
            "person:anna@example.nl",
            "--caller: not a caller: callers are named token:NAME, local:USER, amqp or demo",
        ),
        (
            "token:",
            "--caller: not a caller: callers are named token:NAME, local:USER, amqp or demo",
        ),
        ("  ", "--caller: given but empty"),
    ],
)
def test_a_caller_in_no_caller_s_form_is_refused_naming_the_forms(
    env: dict[str, str], typed: str, said: str
) -> None:
    refused = cli("events", "list", "--caller", typed, env=env)
    assert refused.returncode == 2, refused.stdout
    assert said in " ".join(refused.stderr.split())


def test_a_bsn_as_caller_is_refused_and_not_echoed(env: dict[str, str]) -> None:
    refused = cli("events", "list", "--caller", "999990019", env=env)
    assert refused.returncode == 2, refused.stdout
    assert "--caller" in refused.stderr and "BSN" in refused.stderr
    assert "999990019" not in refused.stdout + refused.stderr


def _cells(outcome: Any) -> list[list[str]]:
    """A boxed table's rows, each its cells' words."""
    return [line.replace("│", " ").split() for line in outcome.stdout.splitlines()]
