"""Dead letters as ``deadletter list --all`` and ``GET /api/v1/deadletters?all=true`` list them
after the real prune: a pruned one keeps its ACK code, a discarded one is listed as such.

Rows are written with a clock 200 days back, so the prune's own clock finds the resolved and
the discarded ones past ``INTEGRATOR_RETAIN_DEAD_LETTER_DAYS``; the CLI runs in process, the
API through an engine on the same store, started after the prune.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import create_engine, select

from deadletter import discard
from destinations.config import dump_destination
from integrator.engine import Engine
from integrator.presenters import shown_time
from integrator.searchkey import resolve_search_key
from integrator.settings import Settings
from integrator.store import AttemptRecord, NewResend, Store
from integrator.store.tables import attempts
from tests.cli_in_process import run_cli
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for
from tests.services import free_port
from tests.store.factories import StepClock, make_event, make_message

LONG_AGO = datetime.now(UTC) - timedelta(days=200)
NOORD = "ziekenhuis-noord"
ACK = b"MSH|^~\\&|HIS|ZNOORD\rMSA|AR|x|onbekend\r"
GAVE_UP = "ACK AR: onbekend; gave up after 1 attempts (max_attempts 1)"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    directory = tmp_path / "destinations"
    directory.mkdir()
    config = destination(NOORD, free_port(), providers=[NOORD])
    (directory / f"{NOORD}.yaml").write_text(dump_destination(config), encoding="utf-8")
    saved = structlog.get_config()
    values = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "INTEGRATOR_DESTINATIONS_DIR": str(directory),
        "USER": "tester",
        "INTEGRATOR_HTTP_PORT": "1",
    }
    resolve_search_key(Settings(database_url=values["INTEGRATOR_DATABASE_URL"]), create=True)
    structlog.configure(**saved)
    return values


def cli_json(env: dict[str, str], *args: str) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def _dead_after_an_ar(store: Store, at: datetime) -> str:
    """A message the receiver rejected (AR) at its one attempt: a dead letter."""
    message = make_message()
    assert await store.accept_event(make_event(received_at=at), [message])
    last = AttemptRecord(
        message_id=message.id,
        number=1,
        started_at=at,
        duration_ms=3.0,
        outcome="deadletter",
        ack_code="AR",
        ack_bytes=ACK,
        error=GAVE_UP,
    )
    await store.record_attempt(last, status="dead", last_error=GAVE_UP)
    return message.id


async def _write(url: str, at: datetime) -> dict[str, str]:
    """Four dead letters after an AR: one resolved (its resend delivered), one discarded by
    ``local:anna``, one still open; and one discarded just now (not past its period)."""
    store = await Store.open(url, clock=StepClock(at))
    try:
        resolved = await _dead_after_an_ar(store, at)
        original = await store.get_message(resolved)
        assert original is not None
        resend = make_message(resend_of=resolved, control_id=original.control_id)
        await store.add_resends([NewResend(original, resend, "original", "local:anna", "HIS")])
        await store.set_status(resend.id, "delivered")
        discarded = await _dead_after_an_ar(store, at)
        await discard(store, discarded, actor="local:anna", reason="sent by fax")
        still_open = await _dead_after_an_ar(store, at)
    finally:
        await store.close()
    store = await Store.open(url)
    try:
        recent = await _dead_after_an_ar(store, datetime.now(UTC))
        await discard(store, recent, actor="local:bert", reason="duplicate")
    finally:
        await store.close()
    return {
        "resolved": resolved,
        "resend": resend.id,
        "discarded": discarded,
        "open": still_open,
        "recent": recent,
    }


async def _api_rows(tmp_path: Path, env: dict[str, str], query: str) -> list[dict[str, Any]]:
    settings = settings_for(
        tmp_path,
        database_url=env["INTEGRATOR_DATABASE_URL"],
        destinations_dir=Path(env["INTEGRATOR_DESTINATIONS_DIR"]),
    )
    engine = Engine(settings)
    await engine.start()
    try:
        # The store was filled before this start, so the engine's daily prune looks at it (and
        # prunes) now: waited for, the engine is not stopped in its middle. Once, in a full
        # parallel run, the next start here found SQLite's write lock held for 15 s and failed;
        # the likely cause, a stop cutting that look's writes short (not reproduced alone).
        await asyncio.wait_for(engine.daily_prune.first_tick.wait(), timeout=30)
        async with api_client(engine) as api:
            answer = await api.get(f"/api/v1/deadletters{query}")
    finally:
        await engine.stop()
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


def test_a_pruned_dead_letter_keeps_its_ack_code_in_every_listing(
    env: dict[str, str], tmp_path: Path
) -> None:
    ids = asyncio.run(_write(env["INTEGRATOR_DATABASE_URL"], LONG_AGO))

    pruned = run_cli("prune", "--json", env=env)
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout)["counts"]["dead_letters"] == 2  # resolved and discarded
    database = create_engine(env["INTEGRATOR_DATABASE_URL"])
    with database.connect() as conn:  # the code stays, the bytes went
        kept = conn.execute(
            select(attempts.c.ack_code, attempts.c.ack_bytes).where(
                attempts.c.message_id == ids["resolved"]
            )
        ).one()
    database.dispose()
    assert (kept.ack_code, kept.ack_bytes) == ("AR", None)

    listed = {r["id"]: r for r in cli_json(env, "deadletter", "list", "--all")}
    assert {i: r["last_ack_code"] for i, r in listed.items()} == dict.fromkeys(
        (ids["resolved"], ids["discarded"], ids["open"], ids["recent"]), "AR"
    )
    shown = cli_json(env, "deadletter", "show", ids["resolved"])
    assert (shown["last_ack_code"], shown["last_ack"]) == ("AR", None)  # no bytes to show
    table = run_cli("deadletter", "list", "--all", env={**env, "COLUMNS": "200"})
    [line] = [x for x in table.stdout.splitlines() if ids["resolved"][:8] in x]
    assert " AR " in line, table.stdout
    human = run_cli("deadletter", "show", ids["resolved"], env=env)
    assert "last_ack_code │ AR" in human.stdout, human.stdout

    api = {r["id"]: r for r in asyncio.run(_api_rows(tmp_path, env, "?all=true"))}
    assert api[ids["resolved"]]["last_ack_code"] == "AR"
    assert api[ids["discarded"]]["last_ack_code"] == "AR"


def test_all_lists_the_discarded_ones_with_who_and_when(
    env: dict[str, str], tmp_path: Path
) -> None:
    ids = asyncio.run(_write(env["INTEGRATOR_DATABASE_URL"], LONG_AGO))

    assert {r["id"] for r in cli_json(env, "deadletter", "list")} == {ids["open"]}
    rows = {r["id"]: r for r in cli_json(env, "deadletter", "list", "--all")}
    assert {i: r["state"] for i, r in rows.items()} == {
        ids["resolved"]: "resolved",
        ids["discarded"]: "discarded",
        ids["open"]: "open",
        ids["recent"]: "discarded",
    }
    discarded = rows[ids["discarded"]]
    assert discarded["discarded_by"] == "local:anna"
    assert datetime.fromisoformat(discarded["discarded_at"]) - LONG_AGO < timedelta(minutes=1)
    # When it died, as its discard recorded it (the discard is the message's last change).
    died = datetime.fromisoformat(discarded["dead_since"])
    assert LONG_AGO <= died < datetime.fromisoformat(discarded["discarded_at"])
    assert rows[ids["recent"]]["discarded_by"] == "local:bert"
    assert rows[ids["open"]]["discarded_by"] is None and rows[ids["open"]]["dead_since"]

    # A period selects a discarded one by when it was discarded.
    recent = cli_json(env, "deadletter", "list", "--all", "--since", "1h")
    assert [r["id"] for r in recent] == [ids["recent"]]

    table = run_cli("deadletter", "list", "--all", env={**env, "COLUMNS": "250"})
    assert table.returncode == 0, table.stderr
    [line] = [x for x in table.stdout.splitlines() if ids["recent"][:8] in x]
    assert "discarded by local:bert at " in line, table.stdout
    assert shown_time(rows[ids["recent"]]["dead_since"]) in line, table.stdout  # died

    api = {r["id"]: r for r in asyncio.run(_api_rows(tmp_path, env, "?all=true"))}
    assert api.keys() == rows.keys()
    assert (api[ids["discarded"]]["state"], api[ids["discarded"]]["discarded_by"]) == (
        "discarded",
        "local:anna",
    )
    assert api[ids["discarded"]]["discarded_at"] is not None
    assert datetime.fromisoformat(api[ids["discarded"]]["dead_since"]) == died
    assert [r["id"] for r in asyncio.run(_api_rows(tmp_path, env, ""))] == [ids["open"]]


async def _discarded_before_the_upgrade(url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two dead letters discarded as a revision did whose discards kept no ``dead_since`` in
    their audit entry: one that died at its attempt, one made dead without any (a removal)."""
    from deadletter import letters

    facts_now = letters._facts

    def older_facts(message: Any) -> dict[str, Any]:
        facts = dict(facts_now(message))
        del facts[letters.DEAD_SINCE]
        return facts

    monkeypatch.setattr(letters, "_facts", older_facts)
    store = await Store.open(url, clock=StepClock(LONG_AGO))
    try:
        tried = await _dead_after_an_ar(store, LONG_AGO)
        untried = make_message()
        assert await store.accept_event(make_event(received_at=LONG_AGO), [untried])
        await store.set_status(untried.id, "dead")
        for message_id in (tried, untried.id):
            await discard(store, message_id, actor="local:anna", reason="sent by fax")
    finally:
        await store.close()
    monkeypatch.undo()
    return [tried, untried.id]


def test_a_letter_discarded_before_its_death_was_kept_says_so_and_its_last_attempt(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an upgrade, a letter discarded before discards recorded when it died showed
    ``died -``, as if it never had. It says that the time is not kept, and the last attempt
    (marked as such) where there was one; ``--json`` keeps ``dead_since`` null beside
    ``last_attempt_at``."""
    tried, untried = asyncio.run(
        _discarded_before_the_upgrade(env["INTEGRATOR_DATABASE_URL"], monkeypatch)
    )
    rows = {r["id"]: r for r in cli_json(env, "deadletter", "list", "--all")}
    assert rows[tried]["dead_since"] is None and rows[untried]["dead_since"] is None
    attempted_at = rows[tried]["last_attempt_at"]
    assert datetime.fromisoformat(attempted_at) == LONG_AGO
    assert rows[untried]["last_attempt_at"] is None

    wide = {**env, "COLUMNS": "250"}
    table = run_cli("deadletter", "list", "--all", env=wide)
    assert table.returncode == 0, table.stderr
    [line] = [x for x in table.stdout.splitlines() if tried[:8] in x]
    # As a listing's short cell, its legend under it (``test_dead_letters_narrow``).
    assert f"≥{shown_time(attempted_at)}" in line, table.stdout
    [line] = [x for x in table.stdout.splitlines() if untried[:8] in x]
    assert " unknown " in line, table.stdout

    shown = run_cli("deadletter", "show", tried, env=wide)
    assert shown.returncode == 0, shown.stderr
    said = f"dead_since     │ not kept; last attempt {shown_time(attempted_at)}"
    assert said in shown.stdout, shown.stdout
    assert cli_json(env, "deadletter", "show", untried)["last_attempt_at"] is None
