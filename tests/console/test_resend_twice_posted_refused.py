"""The same *Resend now* form posted twice (a double click), when the first post is refused
because a colleague resent the message since the preview was shown.

The first post claimed the form's one-time token, was refused and released it (it did
nothing). The second post waited for the first's result all the while: it waited out the
ten seconds and landed on the message's page without a word, the person's confirmation
neither done nor refused; the browser shows the second post's answer, not the first's. It is
now judged afresh once the first released the token, and shows the preview again with the
colleague's resend, as the first did. The first post is held at the resend's write until the
second has found the token claimed: no timing decides the order.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from integrator.access import Grant, Role, local_identity
from integrator.access.permissions import Permission
from integrator.clusters import ClusterScope
from integrator.message_service import resend_message
from tests.console.test_resend_race import _form, delivered, engines
from tests.console.test_saved_searches import post, signed_in


async def test_a_double_click_refused_because_of_a_colleagues_resend_says_so_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engines("sqlite", tmp_path, 1) as [engine]:
        original = await delivered(engine)
        url = f"/messages/{original}/resend"
        async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
            form = _form(await post(sam, f"{url}/preview", {"reason": "the GP called"}))
            # A colleague resends it while Sam's preview stands open.
            colleague = ClusterScope(local_identity("local:anna"), Permission.MESSAGES_RESEND)
            theirs = await resend_message(engine, colleague, original, reason="GP called me")
            assert theirs.message is not None

            second_found_it_claimed = asyncio.Event()
            claim = engine.store.claim_confirmation
            add_resends = engine.store.add_resends

            async def claiming(*args: Any, **kwargs: Any) -> Any:
                won, row = await claim(*args, **kwargs)
                if not won:
                    second_found_it_claimed.set()
                return won, row

            async def held(batch: Any, **kwargs: Any) -> Any:
                await second_found_it_claimed.wait()
                return await add_resends(batch, **kwargs)

            monkeypatch.setattr(engine.store, "claim_confirmation", claiming)
            monkeypatch.setattr(engine.store, "add_resends", held)
            answers = await asyncio.gather(post(sam, url, form), post(sam, url, form))

        _, made = await engine.store.list_resends(original)

    assert [r.message_id for r in made] == [theirs.message.id]  # nothing sent again
    assert [a.status_code for a in answers] == [409, 409], [a.headers for a in answers]
    for shown in answers:  # each post says why it sent nothing, naming the colleague's resend
        assert 'id="resent-meanwhile"' in shown.text
        assert f'name="seen" value="{theirs.message.id}"' in shown.text
