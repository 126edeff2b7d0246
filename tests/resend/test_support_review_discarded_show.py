"""``integrator messages show`` of a discarded dead letter says who discarded it, when and why.

Its status is ``cancelled`` and its attempts end at the one it died at: support looking it up
by its id, as a GP's call leads them to it, could not tell a discard from another end, nor
whom to ask, without knowing to try ``deadletter show`` instead.
"""

from __future__ import annotations

from typing import Any

from integrator.store import AuditFilter, Store
from tests.resend.support import Desk


def test_messages_show_says_who_discarded_it_and_why(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    message_id = desk.submit(referral_data, "ZD800000101")
    desk.set_status(message_id, "dead")
    done = desk.cli("deadletter", "discard", message_id, "--reason", "GP: referral withdrawn")
    assert done.exit_code == 0, done.output

    shown = desk.cli("messages", "show", message_id)
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.stdout.split())
    assert "Discarded by local:" in said, said
    assert ": GP: referral withdrawn" in said

    # Any other message says nothing of a discard.
    other = desk.submit(referral_data, "ZD800000102")
    assert "Discarded" not in desk.cli("messages", "show", other).stdout


def test_messages_show_json_says_it_as_the_apis_detail_does(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    """``--json`` is the API's message detail, which says it as ``discarded``: a script saw
    ``cancelled`` and no more."""
    message_id = desk.submit(referral_data, "ZD800000103")
    desk.set_status(message_id, "dead")
    died = desk.json("messages", "show", message_id)["updated_at"]
    done = desk.cli("deadletter", "discard", message_id, "--reason", "GP: referral withdrawn")
    assert done.exit_code == 0, done.output

    shown = desk.json("messages", "show", message_id)

    async def actor(store: Store) -> str:
        [entry] = await store.list_audit(
            AuditFilter(action="deadletter.discard", target=message_id)
        )
        return entry.actor

    by = desk.with_store(actor)
    assert by.startswith("local:"), by
    assert shown["status"] == "cancelled"
    # Its last change is the discard; times in the zone the rest of the detail uses.
    assert shown["discarded"] == {
        "by": by,
        "at": shown["updated_at"],
        "reason": "GP: referral withdrawn",
        "died_at": died,
    }
    other = desk.submit(referral_data, "ZD800000104")
    assert desk.json("messages", "show", other)["discarded"] is None
