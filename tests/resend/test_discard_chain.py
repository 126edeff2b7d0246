"""Discarding a dead letter covers its resend chain: nothing left open, nothing silently shut.

A dead letter that was resent, and whose resend died too, is one message to one destination
in two dead letters. Discarding either used to close that one only, leaving the other listed as
open (discard the original: its dead resend stays; discard the resend: the original is open
again, since nothing later is live). Now a discard closes every open dead letter of the resend
family to the same destination, says which before (``--dry-run``, ``deadletter show``) and
after, names what stays open and why (a resend still under way, a dead letter for another
destination), and writes an audit entry for each message it closed.
"""

from __future__ import annotations

import json
from typing import Any

from integrator.store import AuditFilter, AuditRecord, Store
from tests.resend.support import ZUID, Desk


def _resent(desk: Desk, *args: str) -> str:
    result = desk.cli(*args, "--json")
    assert result.exit_code == 0, result.output
    [resent] = json.loads(result.stdout)["resent"]
    message_id: str = resent["message_id"]
    return message_id


def _discards(desk: Desk) -> list[AuditRecord]:
    async def go(store: Store) -> list[AuditRecord]:
        return await store.list_audit(AuditFilter(action="deadletter.discard"))

    return desk.with_store(go)


def _chain(desk: Desk, referral_data: dict[str, Any], zd: str) -> tuple[str, str]:
    """A dead letter, resent, whose resend died too."""
    original = desk.submit(referral_data, zd)
    desk.set_status(original, "dead")
    resend = _resent(desk, "deadletter", "resend", original, "--reason", "HIS back")
    desk.set_status(resend, "dead")
    assert {r["id"] for r in desk.json("deadletter", "list")} == {original, resend}
    return original, resend


def test_discarding_the_original_discards_its_dead_resend_too(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    original, resend = _chain(desk, referral_data, "ZD800000001")

    # Before: what the discard would close, nothing changed.
    shown = desk.json("deadletter", "show", original)
    assert [m["id"] for m in shown["resend_chain"]] == [resend]
    dry = desk.cli("deadletter", "discard", original, "--reason", "faxed", "--dry-run")
    assert dry.exit_code == 0, dry.output
    said = " ".join(dry.stdout.split())
    assert f"would discard {original} and its resend chain: {resend}" in said
    assert desk.message(resend).status == "dead" and _discards(desk) == []

    done = desk.json("deadletter", "discard", original, "--reason", "faxed")
    assert done["discarded"] == [original, resend] and done["stays_open"] == []
    assert desk.message(original).status == desk.message(resend).status == "cancelled"
    assert desk.json("deadletter", "list") == []
    entries = {e.target: e for e in _discards(desk)}
    assert entries.keys() == {original, resend}
    assert entries[original].details["with_chain"] == [resend]
    assert entries[resend].details["discarded_with"] == original
    assert {e.reason for e in entries.values()} == {"faxed"}

    # Discarding the resend now says who discarded it, with what.
    again = desk.cli("deadletter", "discard", resend, "--reason", "again")
    assert again.exit_code == 1 and "already resolved: discarded by" in again.stderr


def test_discarding_the_dead_resend_discards_its_dead_original_too(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    original, resend = _chain(desk, referral_data, "ZD800000002")
    result = desk.cli("deadletter", "discard", resend, "--reason", "faxed")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert f"Discarded {resend} and its resend chain: {original}" in said
    assert desk.json("deadletter", "list") == []
    assert desk.message(original).status == "cancelled"


def test_what_a_discard_leaves_open_is_named_with_why(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    original, resend = _chain(desk, referral_data, "ZD800000003")
    elsewhere = _resent(desk, "resend", original, "--reason", "other site", "--to", ZUID)
    desk.set_status(elsewhere, "dead")
    again = _resent(desk, "resend", resend, "--reason", "HIS back now")  # queued

    done = desk.json("deadletter", "discard", original, "--reason", "faxed")
    assert done["discarded"] == [original, resend]
    stays = {s["id"]: s for s in done["stays_open"]}
    assert stays.keys() == {elsewhere, again}
    assert f"dead letter for {ZUID}, another destination" in stays[elsewhere]["why"]
    assert "still in delivery (queued)" in stays[again]["why"]
    [entry] = [e for e in _discards(desk) if e.target == original]
    assert {s["id"] for s in entry.details["left_open"]} == {elsewhere, again}
    assert desk.message(elsewhere).status == "dead"
    assert desk.message(again).status == "queued"
    human = desk.cli("deadletter", "show", elsewhere)
    assert human.exit_code == 0, human.output


def test_a_bulk_discard_counts_the_chains_it_closed_beside_the_dead_letters(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    original, resend = _chain(desk, referral_data, "ZD800000003")
    alone = desk.submit(referral_data, "ZD800000004")
    desk.set_status(alone, "dead")
    result = desk.cli("deadletter", "discard", "--all", "--reason", "faxed")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "Discarded 2 of 2 dead letters and 1 message of their resend chains (now " in said
    assert {desk.message(m).status for m in (original, resend, alone)} == {"cancelled"}
