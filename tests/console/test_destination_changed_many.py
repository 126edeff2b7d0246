"""A save refused because several revisions came in between names them, who made them and
which changed what, in Dutch too: naming only the latest revision blamed it for every key
changed since (a pause "changing ack_timeout" that someone else made earlier).

Request by request against a real engine (no browser), as ``test_refusals`` does.
"""

from __future__ import annotations

import html
import re

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_refusals import engine
from tests.console.test_saved_searches import post, signed_in

__all__ = ["engine"]  # the fixture, used here as there


async def test_a_refusal_after_several_revisions_says_which_changed_what(engine: Engine) -> None:
    admin = engine.admin
    await admin.patch("lab-west", {"ack_timeout": "7s"}, actor="local:root")  # 2
    await admin.patch("lab-west", {"receiving_application": "LIS"}, actor="local:root")  # 3
    await admin.set_enabled("lab-west", False, actor="token:ops-bot", reason="storing")  # 4
    async with signed_in(engine, "ada@example.org", Grant(Role.DESTINATIONS), lang="nl") as ada:
        saved = await post(
            ada,
            "/destinations/lab-west/edit",
            {"revision": "1", "name": "Lab West (hernoemd)", "reason": "naam"},
        )
    assert saved.status_code == 409, saved.text
    [shown] = re.findall(
        r'<div class="problem" role="alert" id="form-changed">(.*?)</div>', saved.text, re.S
    )
    said = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", shown)).split())
    assert (
        "lab-west is 3 keer gewijzigd sinds je het formulier opende (revisies 2-4, door "
        "local:root, token:ops-bot); de laatste: revisie 4 door token:ops-bot op"
    ) in said, said
    assert "“gepauzeerd: storing”" in said, said
    assert (
        "Wat er gewijzigd is: receiving_application in revisie 3 door local:root; ack_timeout in "
        "revisie 2 door local:root; enabled in revisie 4 door token:ops-bot."
    ) in said, said
    assert 'href="/destinations/lab-west/history#revision-2"' in shown
