"""``integrator messages show`` of a discarded dead letter says who discarded it, when and why.

Its status is ``cancelled`` and its attempts end at the one it died at: support looking it up
by its id, as a GP's call leads them to it, could not tell a discard from another end, nor
whom to ask, without knowing to try ``deadletter show`` instead.
"""

from __future__ import annotations

from typing import Any

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

    # Any other message says nothing of a discard; --json stays the API's message.
    other = desk.submit(referral_data, "ZD800000102")
    assert "Discarded" not in desk.cli("messages", "show", other).stdout
    assert "discarded" not in desk.json("messages", "show", message_id)
