"""A resend keeps the warnings of the message it resends, whichever mode made it.

``original`` sends the same bytes, so every warning about them still holds; ``remap`` makes new
bytes, so it keeps the event's warnings (its ZD number's history) and maps its own notes.
Either way ``messages show`` of the resend says them, as it does for the original.
"""

from __future__ import annotations

from typing import Any

import pytest

from integrator.zd_sequence import CANCEL_WITHOUT_NEW, zd_warnings
from tests.resend.support import Desk


@pytest.mark.parametrize("mode", ["original", "remap"])
def test_messages_show_of_a_resend_shows_the_original_s_warnings(
    desk: Desk, referral_data: dict[str, Any], mode: str
) -> None:
    # A cancel of a ZD number nothing was sent for: accepted, and its message warns.
    original = desk.submit({**referral_data, "action": "cancel"}, "ZD700000001")
    [warning] = zd_warnings(desk.message(original).warnings)
    assert warning.startswith(f"{CANCEL_WITHOUT_NEW}: ")
    desk.set_status(original, "delivered")

    resent = desk.json("resend", original, "--reason", "GP: not arrived", "--mode", mode)
    [row] = resent["resent"]
    assert row["mode"] == mode

    shown = desk.json("messages", "show", row["message_id"])
    assert warning in shown["warnings"]
    if mode == "original":  # the same bytes: every warning about them holds
        assert shown["warnings"] == desk.json("messages", "show", original)["warnings"]
    human = desk.cli("messages", "show", row["message_id"])
    assert human.exit_code == 0, human.output
    assert CANCEL_WITHOUT_NEW in " ".join(human.stdout.split())
