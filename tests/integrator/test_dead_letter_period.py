"""``deadletter list`` shows when each letter died and takes ``--since``/``--until`` on that time,
as ``GET /api/v1/deadletters`` takes ``since``/``until``: "what died during last night's outage"
is the question support asks of them."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from destinations.config import dump_destination
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.presenters import shown_time
from integrator.store import MessageFilter, Store
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for
from tests.integrator.test_cli_reading import AMSTERDAM, SHOWN_TIME, cli, listed_ids, stored
from tests.services import free_port
from tests.store.factories import T0, StepClock, make_event, make_message

DIED = (T0 + timedelta(hours=1), T0 + timedelta(hours=5), T0 + timedelta(days=2))
"""When each of the three letters died: they were all made at T0."""


@pytest.fixture
def died(tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    """Three dead letters made at once, each dying at its own time (``DIED``)."""
    messages = [make_message(destination_id="noord") for _ in DIED]
    env = stored(tmp_path, [(make_event(), messages)], timedelta(0))

    async def kill() -> None:
        for message, at in zip(messages, DIED, strict=True):
            clock = StepClock(now=at, step=timedelta(0))
            async with await Store.open(env["INTEGRATOR_DATABASE_URL"], clock=clock) as store:
                await store.set_status(message.id, "dead", last_error="AR from the receiver")

    asyncio.run(kill())
    return env, [m.id for m in messages]


def test_the_listing_shows_when_each_died_and_json_gives_it_locally(
    died: tuple[dict[str, str], list[str]],
) -> None:
    env, ids = died
    table = cli(env, "deadletter", "list")
    assert table.exit_code == 0, table.output
    assert "died" in table.stdout
    for message_id, at in zip(ids, DIED, strict=True):
        [row] = [line for line in table.stdout.splitlines() if line.startswith(message_id[:8])]
        assert SHOWN_TIME.findall(row) == [shown_time(at, AMSTERDAM)], row
    rows = json.loads(cli(env, "deadletter", "list", "--json").stdout)
    assert {r["id"]: r["dead_since"] for r in rows} == {
        message_id: at.astimezone(AMSTERDAM).isoformat()
        for message_id, at in zip(ids, DIED, strict=True)
    }


def test_since_and_until_select_on_when_they_died(
    died: tuple[dict[str, str], list[str]],
) -> None:
    env, (first, second, third) = died
    # A time as the listing shows it, pasted back: that letter and the later ones, or the
    # earlier ones and that one (its whole second).
    shown = shown_time(DIED[1], AMSTERDAM)
    since = cli(env, "deadletter", "list", "--since", shown, "--json")
    assert listed_ids(since) == [third, second]
    until = cli(env, "deadletter", "list", "--until", shown, "--json")
    assert listed_ids(until) == [second, first]
    # A day: the creation day of all three, the death day of two (in local time).
    day = DIED[0].astimezone(AMSTERDAM).date().isoformat()
    one_day = cli(env, "deadletter", "list", "--since", day, "--until", day, "--json")
    assert listed_ids(one_day) == [second, first]
    both = cli(env, "deadletter", "list", "--since", shown, "--until", shown, "--json")
    assert listed_ids(both) == [second]


def test_a_period_for_dead_letters_is_refused_as_every_period_is(
    died: tuple[dict[str, str], list[str]],
) -> None:
    env, _ = died
    backwards = cli(env, "deadletter", "list", "--since", "2026-11-22", "--until", "2026-11-21")
    assert backwards.exit_code == 2, backwards.output
    said = " ".join(backwards.stderr.split())
    assert "--since and --until: the period starts at or after it ends" in said, said
    bad = cli(env, "deadletter", "list", "--since", "gisteren")
    assert bad.exit_code == 2 and "--since: not an ISO date" in bad.stderr


async def test_the_api_selects_dead_letters_on_when_they_died(tmp_path: Path) -> None:
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    engine = Engine(
        settings_for(tmp_path),
        catalog=build_catalog([("noord.yaml", config)], today=date(2026, 11, 27)),
    )
    await engine.start()
    try:
        message = make_message(destination_id="noord", status="dead")  # never delivered
        await engine.store.accept_event(make_event(), [message])
        await engine.store.set_status(message.id, "dead", last_error="AR from the receiver")
        async with api_client(engine) as api:
            letters = await api.get("/api/v1/deadletters", params={"since": "1h"})
            assert [d["id"] for d in letters.json()] == [message.id]
            assert datetime.fromisoformat(letters.json()[0]["dead_since"])
            earlier = await api.get("/api/v1/deadletters", params={"until": "1h"})
            assert earlier.json() == []
            backwards = await api.get("/api/v1/deadletters", params={"since": "1h", "until": "2h"})
            assert backwards.status_code == 422
            assert backwards.json()["detail"].startswith("since and until: ")
    finally:
        await engine.stop()


def _resends(env: dict[str, str]) -> dict[str, list[str]]:
    """Each message's resends, by the message it resends."""

    async def go() -> dict[str, list[str]]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            rows = await store.list_messages(MessageFilter(), limit=100)
            found: dict[str, list[str]] = {}
            for row in rows:
                if row.resend_of is not None:
                    found.setdefault(row.resend_of, []).append(row.id)
            return found

    return asyncio.run(go())


def _with_noord(env: dict[str, str]) -> dict[str, str]:
    """The environment with destination noord configured (a resend needs its destination) and
    an engine port nobody listens on, so the CLI resends in the store."""
    config = destination("noord", free_port(), providers=["noord"])
    path = Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / "noord.yaml"
    path.write_text(dump_destination(config), encoding="utf-8")
    return {**env, "INTEGRATOR_HTTP_PORT": str(free_port()), "USER": "anna"}


def test_resend_takes_a_period_on_when_they_died_and_the_dry_run_promises_exactly_that(
    died: tuple[dict[str, str], list[str]],
) -> None:
    """ "What died last night": the second and third died from the time shown for the second;
    the dry run names exactly those, the real run resends exactly those, the first stays."""
    env, (first, second, third) = died
    env = _with_noord(env)
    shown = shown_time(DIED[1], AMSTERDAM)
    command = ("deadletter", "resend", "--since", shown, "--reason", "HIS back")

    dry = cli(env, *command, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert _resends(env) == {}  # a dry run sends nothing
    real = cli(env, *command, "--json")
    assert real.exit_code == 0, real.output
    promised = [r["original_id"] for r in json.loads(dry.stdout)["would_resend"]]
    done = [r["original_id"] for r in json.loads(real.stdout)["resent"]]
    assert promised == done == [second, third]
    assert sorted(_resends(env)) == sorted([second, third])

    # --until alone is a selection too: the first (and the second's whole second).
    until = cli(env, "deadletter", "resend", "--until", shown, "--reason", "x", "--dry-run")
    assert until.exit_code == 1, until.output  # the second has a live resend now: skipped
    said = " ".join(until.stdout.split())
    assert "Dry run: 1 of 2 messages would be resent" in said, said
    assert f"would resend {first}" in said and f"would skip {second}" in said, said


def test_a_period_for_resending_dead_letters_is_refused_as_every_period_is(
    died: tuple[dict[str, str], list[str]],
) -> None:
    env, _ = died
    env = _with_noord(env)
    for dry_run in ((), ("--dry-run",)):
        backwards = cli(
            env, "deadletter", "resend", "--since", "2026-11-22", "--until", "2026-11-21",
            "--reason", "x", *dry_run,
        )  # fmt: skip
        assert backwards.exit_code == 2, backwards.output
        said = " ".join(backwards.stderr.split())
        assert "--since and --until: the period starts at or after it ends" in said, said
        bad = cli(env, "deadletter", "resend", "--since", "gisteren", "--reason", "x", *dry_run)
        assert bad.exit_code == 2 and "--since: not an ISO date" in bad.stderr
    assert _resends(env) == {}


def test_a_dead_letter_whose_dead_resend_died_after_the_period_is_left_out_naming_it(
    died: tuple[dict[str, str], list[str]],
) -> None:
    """The later dead resend stands for it: resending the one in the period as well would send
    the same message twice once the later one is resent."""
    env, (first, _, _) = died
    env = _with_noord(env)
    resent = cli(env, "deadletter", "resend", first, "--reason", "first go", "--json")
    assert resent.exit_code == 0, resent.output
    [later] = _resends(env)[first]

    async def kill() -> None:  # the resend died too, long after the period below
        clock = StepClock(now=DIED[2] + timedelta(days=1), step=timedelta(0))
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"], clock=clock) as store:
            await store.set_status(later, "dead", last_error="AR from the receiver")

    asyncio.run(kill())
    shown = shown_time(DIED[0], AMSTERDAM)
    for dry_run in (("--dry-run",), ()):
        result = cli(
            env, "deadletter", "resend", "--until", shown, "--reason", "x", "--json", *dry_run
        )
        assert result.exit_code == 1, result.output  # nothing to resend
        outcome = json.loads(result.stdout)
        assert outcome["total"] == 0
        [left_out] = outcome["left_out"]
        assert left_out["id"] == first
        assert f"its later resend {later} is a dead letter too" in left_out["note"]
        assert "died outside the period" in left_out["note"]
    assert _resends(env) == {first: [later]}
