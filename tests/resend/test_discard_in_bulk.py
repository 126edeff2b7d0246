"""``deadletter discard`` in bulk: by --destination, --all or a period, as resend selects.

A forced removal of a destination leaves every waiting message a dead letter (25,000 in an
audit), and they could be discarded one command at a time only: some 13 hours. Now the same
selectors as ``deadletter resend`` take them all, each with its resend chain in a transaction
of its own, audited one by one, with a dry run, a progress bar and Ctrl-C said.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import integrator.cli.deadletter as deadletter_command
from integrator.store import AuditFilter, Store
from tests.cli_in_process import run_cli
from tests.resend.support import Desk, ctrl_c_at
from tests.terminal import at_a_terminal


def dead(desk: Desk, referral_data: dict[str, Any], count: int, first: int = 1) -> list[str]:
    made = []
    for n in range(first, first + count):
        message_id = desk.submit(referral_data, f"ZD80000{n:04d}")
        desk.set_status(message_id, "dead")
        made.append(message_id)
    return made


def discards(desk: Desk) -> list[str]:
    async def go(store: Store) -> list[str]:
        return [e.target for e in await store.list_audit(AuditFilter(action="deadletter.discard"))]

    return desk.with_store(go)


def test_a_destination_s_dead_letters_are_discarded_in_one_command(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    letters = dead(desk, referral_data, 3)
    by = ("deadletter", "discard", "--destination", "ziekenhuis-noord", "--reason", "sent by fax")

    dry = desk.cli(*by, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert sorted(p["id"] for p in json.loads(dry.stdout)["would_discard"]) == sorted(letters)
    assert discards(desk) == [] and {desk.message(m).status for m in letters} == {"dead"}

    done = desk.cli(*by)
    assert done.exit_code == 0, done.output
    said = " ".join(done.stdout.split())
    # No chains: none said ("3 with their resend chains" read as chains of three).
    assert "Discarded 3 of 3 dead letters (now cancelled), by" in said
    assert {desk.message(m).status for m in letters} == {"cancelled"}
    assert sorted(discards(desk)) == sorted(letters)  # one audit entry each

    none_left = desk.cli(*by)
    assert none_left.exit_code == 1
    assert "no dead letter matches the selection; nothing discarded" in none_left.stderr


def test_without_a_selector_nothing_is_discarded(desk: Desk, referral_data: dict[str, Any]) -> None:
    [letter] = dead(desk, referral_data, 1)
    refused = desk.cli("deadletter", "discard", "--reason", "x")
    assert refused.exit_code == 2, refused.output
    assert desk.message(letter).status == "dead"


def test_ctrl_c_stops_after_the_one_under_way_and_says_how_far_it_got(
    desk: Desk, referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    letters = dead(desk, referral_data, 4)

    monkeypatch.setattr(deadletter_command, "progress_bar", ctrl_c_at(2))
    with at_a_terminal():
        stopped = desk.cli("deadletter", "discard", "--all", "--reason", "faxed")
    assert stopped.exit_code == 130, stopped.output
    said = " ".join(stopped.stderr.split())
    assert "stopped after 2 of 4 dead letters (each one done is committed and audited)" in said
    assert sorted(desk.message(m).status for m in letters) == ["cancelled"] * 2 + ["dead"] * 2
    assert len(discards(desk)) == 2


def test_the_service_refuses_a_blank_or_long_reason_to_discard_but_not_to_plan(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    """A confirmation page plans before a reason is typed; discarding needs one, checked as
    a single discard checks it (stripped, at most 1,000 characters)."""
    from deadletter import MissingReason, ReasonTooLong, discard_each

    [letter] = dead(desk, referral_data, 1)

    async def go(store: Store) -> None:
        planned, _ = await discard_each(
            store, [letter], actor="local:anna", reason=None, dry_run=True
        )
        assert planned[0].plan is not None
        with pytest.raises(MissingReason):
            await discard_each(store, [letter], actor="local:anna", reason="   ")
        with pytest.raises(ReasonTooLong):
            await discard_each(store, [letter], actor="local:anna", reason="x" * 1001)

    desk.with_store(go)
    assert desk.message(letter).status == "dead" and discards(desk) == []


def test_a_chain_discarded_whole_is_no_failure(desk: Desk, referral_data: dict[str, Any]) -> None:
    """The selection is resend's: of a dead letter whose resend died too it takes the latest
    and leaves the older out ("resent instead"). Discarding the latest closes both, and the
    command still listed the older as left out and exited 1."""
    [original] = dead(desk, referral_data, 1)
    resent = json.loads(
        desk.cli("deadletter", "resend", original, "--reason", "x", "--json").stdout
    )
    [again] = [r["message_id"] for r in resent["resent"]]
    desk.set_status(again, "dead")

    done = desk.cli("deadletter", "discard", "--all", "--reason", "faxed", "--json")
    assert done.exit_code == 0, done.output
    said = json.loads(done.stdout)
    assert said["left_out"] == []
    assert [sorted(p["discarded"]) for p in said["discarded"]] == [sorted([original, again])]
    assert desk.message(original).status == desk.message(again).status == "cancelled"


def test_a_named_one_discarded_already_is_said_and_the_others_are_discarded(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    """One of the ids discarded already stopped the whole batch with "is cancelled, not dead"
    (exit 2), the others left open; and the time a bulk discard said was in UTC."""
    first, second = dead(desk, referral_data, 2)
    once = desk.cli("deadletter", "discard", first, "--reason", "GP withdrew")
    assert once.exit_code == 0, once.output

    dry = desk.cli("deadletter", "discard", first, second, "--reason", "x", "--dry-run", "--json")
    assert dry.exit_code == 1, dry.output
    answer = json.loads(dry.stdout)
    assert [p["id"] for p in answer["would_discard"]] == [second]
    [why] = answer["not_discarded"]
    assert why["id"] == first and "already resolved: discarded by local:" in why["why"]
    local = datetime.now(ZoneInfo("Europe/Amsterdam")).isoformat()[-6:]  # "+01:00" in winter
    assert local in why["why"]  # in the engine's zone, as a single discard says it

    done = desk.cli("deadletter", "discard", first, second, "--reason", "HIS rebuilt")
    assert done.exit_code == 1, done.output  # one was not discarded: said, and exit 1
    said = " ".join(done.stdout.split())
    assert "Discarded 1 of 2 dead letters" in said
    assert f"not discarded: {first}: dead letter {first} was already resolved" in said
    assert local in said and "+00:00" not in said
    assert desk.message(second).status == "cancelled"
    assert sorted(discards(desk)) == sorted([first, second])  # each once


@pytest.mark.parametrize(
    "selector",
    [("0b8e69ed",), ("0b8e69ed", "--dry-run"), ("--all",), ("--all", "--dry-run")],
    ids=["one", "one, dry run", "in bulk", "in bulk, dry run"],
)
def test_run_where_no_store_is_it_makes_none_and_says_where_it_looked(
    tmp_path: Path, selector: tuple[str, ...]
) -> None:
    """Run from another directory than the engine's (the default store is a relative path), a
    discard made a new, empty store there, found no dead letter in it, and left it behind for
    the next command run there (a token made in it is one the engine refuses)."""
    store = tmp_path / "var" / "integrator.db"
    env = {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{store}",
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path / "destinations"),
        "USER": "olga",
    }
    done = run_cli("deadletter", "discard", *selector, "--reason", "faxed", env=env)
    assert done.returncode == 1, done.stderr
    said = " ".join(done.stderr.split())
    assert f"no store at sqlite:///{store}" in said
    assert not store.exists() and not (tmp_path / "var").exists()
