"""The invitation's secret pasted as the whole link (``…/invitation#<secret>``) or with its
``#``, as a person copies it from the mail when the page opened without its ``#`` part: taken
as the secret, not refused as "no longer valid" (which sends them to ask for a new link)."""

from __future__ import annotations

import httpx

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.http import create_app
from tests.console import answered
from tests.console.test_saved_searches import BASE, ORIGIN, csrf, engine  # noqa: F401
from tests.http.support import MAKER


async def test_the_whole_link_or_hash_and_secret_open_the_invitation(
    engine: Engine,  # noqa: F811
) -> None:
    link = await engine.access.invite(MAKER, "nina@example.org", [Grant(Role.VIEWER)])
    assert link.link is not None
    secret = link.link.split("#", 1)[1]
    transport = answered.transport(create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as nina:
        for pasted in (f"  {link.link} ", f"#{secret}", secret):
            form = await nina.get("/invitation")
            opened = await nina.post(
                "/invitation/open",
                data={"csrf": csrf(form.text), "secret": pasted},
                headers=ORIGIN,
            )
            assert opened.status_code == 200, (pasted, opened.text)
            assert 'name="totp_secret"' in opened.text
            assert f'name="secret" value="{secret}"' in opened.text
