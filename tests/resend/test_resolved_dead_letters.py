"""Dead letters settled by a delivered resend are resolved: listed only on request, linked."""

from __future__ import annotations

import json
from typing import Any

from tests.resend.support import Desk


def _resend_id(desk: Desk, *args: str) -> str:
    result = desk.cli("deadletter", "resend", *args, "--json")
    assert result.exit_code == 0, result.output
    [resent] = json.loads(result.stdout)["resent"]
    message_id: str = resent["message_id"]
    return message_id


def test_a_dead_letter_whose_resend_was_delivered_is_resolved_and_hidden(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    settled = desk.submit(referral_data, "ZD600000001")
    waiting = desk.submit(referral_data, "ZD600000002")
    for message_id in (settled, waiting):
        desk.set_status(message_id, "dead")
    resend = _resend_id(desk, settled, "--reason", "HIS back")

    rows = {r["id"]: r for r in desk.json("deadletter", "list")}
    assert rows.keys() == {settled, waiting}
    assert rows[settled]["state"] == "resending"
    assert rows[settled]["latest_resend"] == {
        "id": resend,
        "destination": "ziekenhuis-noord",
        "status": "queued",
    }
    assert (rows[waiting]["state"], rows[waiting]["latest_resend"]) == ("open", None)

    desk.set_status(resend, "delivered")  # the engine delivered it
    assert [r["id"] for r in desk.json("deadletter", "list")] == [waiting]
    everything = {r["id"]: r for r in desk.json("deadletter", "list", "--all")}
    assert everything.keys() == {settled, waiting}
    assert (everything[settled]["state"], everything[settled]["resolved_by"]) == (
        "resolved",
        resend,
    )
    shown = desk.json("deadletter", "show", settled)
    assert (shown["state"], shown["resolved_by"]) == ("resolved", resend)

    listed = desk.cli("deadletter", "list")
    assert listed.exit_code == 0 and settled not in listed.stdout
    assert "resolved ones hidden, --all shows them" in " ".join(listed.stdout.split())
    human = desk.cli("deadletter", "show", settled)
    assert human.exit_code == 0 and f"resolved by {resend}" in " ".join(human.stdout.split())

    # Discarding it now would close as cancelled a message that got through: refused, exit 1
    # (nothing done), saying how it was resolved; it stays dead and resolved.
    discard = desk.cli("deadletter", "discard", settled, "--reason", "fax")
    assert discard.exit_code == 1, discard.output
    assert (
        f"dead letter {settled} was already resolved: its resend {resend} was delivered; "
        "nothing was changed" in " ".join(discard.stderr.split())
    ), discard.stderr
    assert desk.message(settled).status == "dead"

    # ``resend --all`` resends what ``list`` shows; a resolved one only when named.
    every = desk.cli("deadletter", "resend", "--all", "--reason", "HIS back", "--json")
    assert every.exit_code == 0, every.output
    assert [r["original_id"] for r in json.loads(every.stdout)["resent"]] == [waiting]
    _resend_id(desk, settled, "--reason", "GP: still not there")
    assert len(desk.resends_of(settled)) == 2


def test_a_dead_resend_stands_for_its_dead_original_and_resolves_both(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    original = desk.submit(referral_data, "ZD600000011")
    desk.set_status(original, "dead")
    first = _resend_id(desk, original, "--reason", "HIS back")
    desk.set_status(first, "dead")  # the HIS was not back after all
    assert {r["id"] for r in desk.json("deadletter", "list")} == {original, first}

    # Both are open, but they are one message: only the latest goes out again.
    dry = desk.cli("deadletter", "resend", "--all", "--reason", "HIS back now", "--dry-run")
    assert dry.exit_code == 0, dry.output
    text = " ".join(dry.stdout.split())
    assert "1 of 2 messages would be resent" in text and "(1 left out, below)." in text
    assert f"left out {original}: its later resend {first} is a dead letter too" in text
    real = desk.cli("deadletter", "resend", "--all", "--reason", "HIS back now", "--json")
    assert real.exit_code == 0, real.output
    outcome = json.loads(real.stdout)
    [resent] = outcome["resent"]
    assert resent["original_id"] == first
    assert [x["id"] for x in outcome["left_out"]] == [original]

    desk.set_status(resent["message_id"], "delivered")
    assert desk.json("deadletter", "list") == []
    resolved = {r["id"]: r["resolved_by"] for r in desk.json("deadletter", "list", "--all")}
    assert resolved == {original: resent["message_id"], first: resent["message_id"]}
