"""The CLI's CSV exports are audited (docs/product.md §8: every export): who, what, the terms,
how many rows; a BSN term as its keyed hash, never the BSN."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from integrator.cli import app
from integrator.settings import Settings
from integrator.store import AuditRecord, Store
from tests.store.factories import make_event, make_message

SEARCH_KEY = "export-tests-search-key"
BSN = "999990019"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    bsn_hash = Settings(search_key=SEARCH_KEY).bsn_hash(BSN)

    async def fill() -> None:
        async with await Store.open(url) as store:
            for zd in ("ZD100000001", "ZD100000002"):
                await store.accept_event(
                    make_event(zd_number=zd, bsn_hash=bsn_hash), [make_message()]
                )

    asyncio.run(fill())
    return {
        "INTEGRATOR_DATABASE_URL": url,
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "USER": "piet",
    }


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def exports(env: dict[str, str]) -> list[AuditRecord]:
    async def read() -> list[AuditRecord]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            entries = await store.list_audit(limit=1000)
            return [e for e in entries if e.action.endswith(".export")]

    return asyncio.run(read())


def test_a_messages_export_is_audited_with_the_bsn_as_its_hash(env: dict[str, str]) -> None:
    done = cli(env, "messages", "list", "--bsn", BSN, "--status", "queued", "--csv")
    assert done.exit_code == 0, done.output
    assert len(list(csv.DictReader(io.StringIO(done.stdout)))) == 2
    [entry] = exports(env)
    assert (entry.actor, entry.action, entry.target) == (
        "local:piet",
        "messages.export",
        "messages.csv",
    )
    assert entry.details == {
        "terms": {
            "status": "queued",
            "bsn_hash": Settings(search_key=SEARCH_KEY).bsn_hash(BSN),
        },
        "limit": 50,
        "offset": 0,
        "rows": 2,
        "format": "csv",
    }
    assert BSN not in repr(entry)


def test_an_audit_export_is_audited_and_other_listings_are_not(env: dict[str, str]) -> None:
    assert cli(env, "messages", "list", "--json").exit_code == 0
    assert cli(env, "messages", "list").exit_code == 0
    assert exports(env) == []
    done = cli(env, "audit", "list", "--action", "person.invite", "--limit", "10", "--csv")
    assert done.exit_code == 0, done.output
    [entry] = exports(env)
    assert (entry.actor, entry.action, entry.target) == ("local:piet", "audit.export", "audit.csv")
    assert entry.details == {
        "terms": {"action": "person.invite"},
        "limit": 10,
        "offset": 0,
        "rows": 0,
        "format": "csv",
    }
    by_bsn = cli(env, "audit", "list", "--bsn", BSN, "--csv")
    assert by_bsn.exit_code == 0, by_bsn.output
    # The export by BSN records the BSN's keyed hash only.
    newest = exports(env)[0]
    assert newest.details["terms"] == {"bsn_hash": Settings(search_key=SEARCH_KEY).bsn_hash(BSN)}
    assert BSN not in repr(exports(env))


def test_a_refused_export_writes_nothing_and_records_nothing(env: dict[str, str]) -> None:
    refused = cli(env, "messages", "list", "--bsn", "123", "--csv")
    assert refused.exit_code == 2
    assert refused.stdout == "" and exports(env) == []


def test_an_events_export_is_audited_and_holds_identifiers_only(env: dict[str, str]) -> None:
    done = cli(env, "events", "list", "--bsn", BSN, "--zd", "ZD100000002", "--csv")
    assert done.exit_code == 0, done.output
    [row] = list(csv.DictReader(io.StringIO(done.stdout)))
    assert row["zd_number"] == "ZD100000002" and row["messages"] == "1"
    assert list(row) == [
        "event_id",
        "zd_number",
        "event_type",
        "action",
        "provider",
        "received_at",
        "source",
        "messages",
        "caller",
        "pruned_at",
    ]
    assert BSN not in done.stdout
    [entry] = exports(env)
    assert (entry.actor, entry.action, entry.target) == (
        "local:piet",
        "events.export",
        "events.csv",
    )
    assert entry.details["terms"] == {
        "zd_number": "ZD100000002",
        "bsn_hash": Settings(search_key=SEARCH_KEY).bsn_hash(BSN),
    }
    assert entry.details["rows"] == 1
    assert BSN not in repr(entry)


def test_events_list_takes_json_or_csv_not_both(env: dict[str, str]) -> None:
    done = cli(env, "events", "list", "--json", "--csv")
    assert done.exit_code == 2 and "choose one" in done.stderr
    assert exports(env) == []


def test_free_text_that_matched_nothing_is_not_kept_in_the_export_entry(
    env: dict[str, str],
) -> None:
    """A patient's name and birth date typed as the audit trail's target (docs/console.md
    says such a target is searched as written) found nothing; the export's entry, kept for
    years and read by every admin, must not hold it. A term that matched entries equals what
    the engine wrote and is kept as typed."""
    typed = "Zzmarkerfamily 1961-04-12"
    for args in (
        ("audit", "list", "--target", typed, "--csv"),
        ("audit", "list", "--actor", f"token:{typed}", "--csv"),
        ("events", "list", "--provider", typed, "--csv"),
        ("messages", "list", "--control-id", typed, "--csv"),
    ):
        done = cli(env, *args)
        assert done.exit_code == 0, done.output
    entries = exports(env)
    assert [e.details["terms"] for e in reversed(entries)] == [
        {"target": "(matched nothing: not kept)"},
        {"actor": "(matched nothing: not kept)"},
        {"provider": "(matched nothing: not kept)"},
        {"control_id": "(matched nothing: not kept)"},
    ]
    assert "Zzmarkerfamily" not in repr(entries)
    # The first export's own entry has the target audit.csv: found, so kept as typed.
    done = cli(env, "audit", "list", "--target", "audit.csv", "--actor", "local:piet", "--csv")
    assert done.exit_code == 0, done.output
    assert exports(env)[0].details["terms"] == {"target": "audit.csv", "actor": "local:piet"}
    assert exports(env)[0].details["rows"] == 2
    done = cli(env, "events", "list", "--provider", "ziekenhuis-noord", "--csv")
    assert done.exit_code == 0, done.output
    assert exports(env)[0].details["terms"] == {"provider": "ziekenhuis-noord"}
