"""A destination removed since is said to be removed, when, by whom and why, not answered
with a bare "not found": the browser's Back after a removal landed on a 404, and a second tab's
removal form, posted after the first removed it, came back as the form (or a 404 to someone
held to some clusters). An id never known stays a 404, and so does a removed one to who could
not see it before it went.

Request by request against a real engine (the world of ``test_destination_removal``:
``noord`` in CARD, paused; ``zuid`` in LAB); ``test_destination_gone_browser`` walks it in
the browser.
"""

from __future__ import annotations

import re

import httpx

from integrator.access import Grant, Role
from integrator.console.render import local_time
from integrator.engine import Engine
from tests.console.answered import NOT_FOLLOWED
from tests.console.test_destination_removal import REASON, _form, _text, engine
from tests.console.test_saved_searches import ORIGIN, signed_in

__all__ = ["engine"]  # the fixture of ``test_destination_removal``, its world

REMOVE_FORM = 'action="/destinations/noord/remove"'


async def _removed_at(engine: Engine, destination_id: str) -> str:
    """When the last revision (the removal) was recorded, as the console shows a time."""
    revisions = await engine.store.list_destination_revisions(destination_id)
    return local_time(revisions[-1].at, engine.settings.zone)


async def _remove(client: httpx.AsyncClient, form: dict[str, str]) -> None:
    done = await client.post(
        "/destinations/noord/remove",
        data={**form, "reason": REASON},
        headers=ORIGIN,
        extensions=NOT_FOLLOWED,
    )
    assert done.status_code == 303, done.text


async def test_back_after_a_removal_says_it_was_removed_when_and_by_whom(engine: Engine) -> None:
    async with signed_in(engine, "olga@example.org", Grant(Role.DESTINATIONS, "CARD")) as olga:
        await _remove(olga, _form(await olga.get("/destinations/noord/remove")))
        at = await _removed_at(engine, "noord")
        # Back: the removal's page, then the destination's page. Neither a 404 nor the form.
        for address in ("/destinations/noord/remove", "/destinations/noord"):
            back = await olga.get(address)
            assert back.status_code == 410, (address, back.text)
            said = _text(back)
            assert (
                f"Destination noord was removed at {at} by person:olga@example.org (revision"
            ) in said, said
            assert f"Reason: {REASON}" in said
            assert 'href="/destinations"' in back.text
            assert REMOVE_FORM not in back.text and 'name="once"' not in back.text
            # Its history is for access to all clusters, where a removed destination lies.
            assert "/destinations/noord/history" not in back.text
        # An id never known is still not found.
        assert (await olga.get("/destinations/never-there")).status_code == 404
        assert (await olga.get("/destinations/never-there/remove")).status_code == 404

    async with signed_in(engine, "lars@example.org", Grant(Role.DESTINATIONS, "LAB")) as lars:
        # Could not see it before it went: as unknown as ever.
        assert (await lars.get("/destinations/noord")).status_code == 404
        assert (await lars.get("/destinations/noord/remove")).status_code == 404

    async with signed_in(engine, "ada@example.org", Grant(Role.VIEWER), lang="nl") as ada:
        gone = await ada.get("/destinations/noord")
        assert gone.status_code == 410, gone.text
        said = _text(gone)
        assert (
            f"Bestemming noord is verwijderd op {at} door person:olga@example.org (revisie"
        ) in said, said
        assert f"Reden: {REASON}" in said
        assert 'href="/destinations/noord/history"' in gone.text  # all clusters: hers to read


async def test_a_second_tab_s_removal_says_it_was_removed_already(engine: Engine) -> None:
    """Held to CARD: the second form's post was a 404 (the destination lies in no cluster once
    removed); with a blank reason it asked for one. Now: removed already, nothing done."""
    async with signed_in(engine, "olga@example.org", Grant(Role.DESTINATIONS, "CARD")) as olga:
        first = _form(await olga.get("/destinations/noord/remove"))
        second = _form(await olga.get("/destinations/noord/remove"))
        await _remove(olga, first)
        at = await _removed_at(engine, "noord")
        for reason in (REASON, ""):
            late = await olga.post(
                "/destinations/noord/remove",
                data={**second, "reason": reason, "force": "true"},
                headers=ORIGIN,
            )
            assert late.status_code == 410, late.text
            said = _text(late)
            assert (
                "Nothing was done: destination noord had been removed already when you pressed "
                "the button."
            ) in said, said
            assert f"Destination noord was removed at {at} by person:olga@example.org" in said
            assert REMOVE_FORM not in late.text and 'name="once"' not in late.text
    removals = [
        e
        for e in await engine.store.list_audit(target="noord", limit=100)
        if e.action == "destination.remove"
    ]
    assert len(removals) == 1


async def test_a_destination_whose_file_was_deleted_by_hand_says_so(engine: Engine) -> None:
    async with signed_in(engine, "lars@example.org", Grant(Role.DESTINATIONS, "LAB")) as lars:
        (engine.settings.destinations_dir / "zuid.yaml").unlink()
        await engine.reload_destinations()  # as the engine notices it within a second
        at = await _removed_at(engine, "zuid")
        gone = await lars.get("/destinations/zuid")
    assert gone.status_code == 410, gone.text
    said = _text(gone)
    assert (
        f"The file of destination zuid was deleted by hand; the engine recorded that at {at}"
    ) in said, said
    assert not re.search(r"removed at .* by file", said)
