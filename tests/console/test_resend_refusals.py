"""The console's resend and discard forms: a refused value is named by its field and rule,
never repeated (it may be a BSN or a name), and a reason has the bound of every front door."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.started import noord_engine, started_engine
from tests.console.test_saved_searches import START, post, signed_in
from tests.store.factories import make_event, make_message

PATIENT_LIKE = ("999990019", "Jan van der Berg", "1970-01-31")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine with one delivered message and one dead letter."""
    async with started_engine(tmp_path, START) as started:
        for zd_number, status in (("ZD100000001", "delivered"), ("ZD100000002", "dead")):
            message = make_message()
            assert await started.store.accept_event(
                make_event(zd_number=zd_number, received_at=START), [message]
            )
            await started.store.set_status(message.id, status)
        yield started


async def _ids(engine: Engine) -> tuple[str, str]:
    messages = await engine.store.list_messages(limit=10)
    by_status = {m.status: m.id for m in messages}
    return by_status["delivered"], by_status["dead"]


def _without(answer: httpx.Response, *values: str) -> None:
    for value in values:
        assert value not in answer.text, value


async def test_a_refused_target_or_id_is_not_repeated(engine: Engine) -> None:
    delivered, _ = await _ids(engine)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        for typed in PATIENT_LIKE:
            preview = await post(
                sam, f"/messages/{delivered}/resend/preview", {"reason": "GP called", "to": typed}
            )
            assert preview.status_code == 422, preview.text
            assert "to: no configured destination has this id" in preview.text
            _without(preview, typed)

            picked = await post(sam, "/deadletters/confirm", {"action": "resend", "ids": typed})
            assert picked.status_code == 404, picked.text  # as an id outside one's clusters
            _without(picked, typed)
    async with signed_in(engine, "anna@example.org", Grant(Role.RESEND), lang="nl") as anna:
        preview = await post(
            anna, f"/messages/{delivered}/resend/preview", {"reason": "x", "to": "Jan van der Berg"}
        )
        # Named as the form labels it, as every field on a Dutch page: not by the API's "to".
        assert "andere bestemming: geen ingestelde bestemming heeft dit id" in preview.text
        _without(preview, "Jan van der Berg")
    assert (await engine.store.list_resends(delivered))[1] == []


async def test_a_reason_of_1001_characters_is_refused_and_1000_taken(engine: Engine) -> None:
    delivered, dead = await _ids(engine)
    too_long = "Jan van der Berg " + "x" * (1001 - len("Jan van der Berg "))
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        audited = len(await engine.store.list_audit(limit=10_000))
        for url, data in (
            (f"/messages/{delivered}/resend/preview", {}),
            (f"/messages/{delivered}/resend", {}),
            ("/deadletters/resend", {"ids": dead}),
            ("/deadletters/discard", {"ids": dead}),
        ):
            refused = await post(sam, url, {**data, "reason": too_long})
            assert refused.status_code == 422, (url, refused.text)
            assert "at most 1000 characters" in refused.text
            _without(refused, "Jan van der Berg", "xxxx")
        assert (await engine.store.list_resends(delivered))[1] == []
        assert (await engine.store.list_resends(dead))[1] == []
        assert (await engine.store.get_message(dead)).status == "dead"  # type: ignore[union-attr]
        assert len(await engine.store.list_audit(limit=10_000)) == audited

        taken = await post(sam, f"/messages/{delivered}/resend/preview", {"reason": "y" * 1000})
        assert taken.status_code == 200, taken.text
        confirm = await post(sam, "/deadletters/confirm", {"action": "discard", "ids": dead})
        found = re.search(r'name="once" value="([^"]+)"', confirm.text)
        assert found is not None, confirm.text
        discarded = await post(
            sam,
            "/deadletters/discard",
            {"ids": dead, "reason": "y" * 1000, "once": found.group(1)},
        )
        assert discarded.status_code in (200, 303), discarded.text
    assert (await engine.store.get_message(dead)).status == "cancelled"  # type: ignore[union-attr]


async def test_the_preview_page_leads_back_to_its_message(engine: Engine) -> None:
    """Without JavaScript the preview is a page of its own, not a part of the message's page:
    when it says why nothing would be resent (here: its destination is not configured), it must
    lead back to the message, where the person can try something else, in both languages."""
    delivered, _ = await _ids(engine)
    for lang, words in (("en", "Back to the message"), ("nl", "Terug naar het bericht")):
        async with signed_in(
            engine, f"sam-{lang}@example.org", Grant(Role.RESEND), lang=lang
        ) as sam:
            preview = await post(sam, f"/messages/{delivered}/resend/preview", {"reason": "GP"})
            assert preview.status_code == 200, preview.text
            assert 'name="once"' not in preview.text  # nothing would be resent
            assert f'<a href="/messages/{delivered}">{words}</a>' in preview.text


async def test_a_refused_mode_is_named_by_the_forms_word_on_a_dutch_page(engine: Engine) -> None:
    delivered, _ = await _ids(engine)
    async with signed_in(engine, "anna@example.org", Grant(Role.RESEND), lang="nl") as anna:
        preview = await post(
            anna, f"/messages/{delivered}/resend/preview", {"reason": "x", "mode": "bogus"}
        )
    assert preview.status_code == 422, preview.text
    assert "manier: " in preview.text and "mode: " not in preview.text


def _once(page: httpx.Response) -> str:
    found = re.search(r'name="once" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


async def test_a_reason_that_writes_out_a_bsn_is_refused_beside_the_form(tmp_path: Path) -> None:
    """Every service refuses a reason with a BSN (``reason.holds_bsn``): the console's resend
    and discard forms say so where they say a reason is missing, never repeating it, and
    nothing is resent, discarded or audited."""
    with_bsn = "mevrouw belde, bsn 999990019"
    async with noord_engine(tmp_path) as engine:
        ids = {}
        for zd_number, status in (("ZD100000001", "delivered"), ("ZD100000002", "dead")):
            message = make_message(destination_id="noord")
            assert await engine.store.accept_event(
                make_event(zd_number=zd_number, received_at=START), [message]
            )
            await engine.store.set_status(message.id, status)
            ids[status] = message.id
        delivered, dead = ids["delivered"], ids["dead"]
        async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
            audited = len(await engine.store.list_audit(limit=10_000))
            preview_url = f"/messages/{delivered}/resend/preview"
            refused = [await post(sam, preview_url, {"reason": with_bsn})]
            preview = await post(sam, preview_url, {"reason": "GP called"})
            refused.append(
                await post(
                    sam,
                    f"/messages/{delivered}/resend",
                    {"reason": with_bsn, "once": _once(preview)},
                )
            )
            for action in ("resend", "discard"):
                confirm = await post(sam, "/deadletters/confirm", {"action": action, "ids": dead})
                refused.append(
                    await post(
                        sam,
                        f"/deadletters/{action}",
                        {"ids": dead, "reason": with_bsn, "once": _once(confirm)},
                    )
                )
            for answer in refused:
                assert answer.status_code == 422, (answer.url, answer.text)
                assert "this looks like a BSN: leave it out" in answer.text, answer.url
                _without(answer, "999990019", "999 990 019")
            assert len(await engine.store.list_audit(limit=10_000)) == audited
        assert (await engine.store.list_resends(delivered))[1] == []
        assert (await engine.store.list_resends(dead))[1] == []
        assert (await engine.store.get_message(dead)).status == "dead"  # type: ignore[union-attr]
