"""A batch's result says what happened before it lists it: how many were resent, skipped or
left out, the rows not done (with why) first, the status each new message has now, and the way
back above the rows; a batch's confirmation says of each message what one message's preview
says (delivered already, resent before). Request by request against a real engine, in both
languages."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from deadletter import ResendRequest, select_dead_letters, select_for_resend
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.resending import resend_in_engine
from tests.console.started import noord_engine
from tests.console.test_batch_resend_pages import _dead, _post
from tests.console.test_saved_searches import post, signed_in
from tests.store.factories import make_event, make_message

# A resend's first attempt is refused at once (noord's port answers nothing); with the tests'
# usual retries (50 to 200 ms, five attempts) it was dead within a second, and on a loaded
# machine before the batch was posted: the dead letter it resent was then open again, and the
# batch resent it instead of skipping it. Waiting an hour between tries, a resend stays under
# way for as long as a test looks.
HELD_RETRY = {"initial": "1h", "max_delay": "1h", "max_attempts": 5, "max_age": "2h"}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path, retry=HELD_RETRY) as started:
        yield started


def _hidden(answer: str, action: str) -> dict[str, str | list[str]]:
    """The hidden fields of the form that posts to ``action``, by name (``ids`` as a list)."""
    found = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', answer, re.S)
    assert found, answer
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', found[1]):
        fields.setdefault(name, []).append(html.unescape(value))
    return {k: v if k == "ids" else v[0] for k, v in fields.items()}


def _text(answer: str, element_id: str) -> str:
    """The text of the element with ``element_id``, tags left out, spaces as one."""
    found = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', answer, re.S)
    assert found, answer
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[2])).split())


async def _resend_now(engine: Engine, message_id: str) -> str:
    """A resend of dead letter ``message_id`` made by a colleague; the new message's id."""
    selection = await select_dead_letters(engine.store, message_ids=[message_id])
    request = ResendRequest(reason="colleague", actor="colleague")
    [result] = await resend_in_engine(engine, selection, request)
    assert result.message is not None
    return result.message.id


@pytest.mark.parametrize(
    ("lang", "tally", "now"),
    [
        (
            "en",
            "2 resent, 1 skipped. The 1 not done is listed first, each with why.",
            "The new messages now: 1 delivered, 1 queued.",
        ),
        (
            "nl",
            "2 herzonden, 1 overgeslagen. De 1 niet behandelde bericht staat bovenaan, met de "
            "reden.",
            "De nieuwe berichten nu: 1 afgeleverd, 1 in de",
        ),
    ],
)
async def test_a_dead_letter_batch_says_what_it_did_above_its_rows(
    engine: Engine, lang: str, tally: str, now: str
) -> None:
    first, second, third = await _dead(engine, 3)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang=lang) as sam:
        shown = await post(
            sam, "/deadletters/confirm", {"action": "resend", "ids": [first, second, third]}
        )
        assert shown.status_code == 200, shown.text
        await _resend_now(engine, third)  # a colleague, meanwhile: this one is skipped
        sent = await _post(
            sam,
            "/deadletters/resend",
            {**_hidden(shown.text, "/deadletters/resend"), "reason": "GP called"},
        )
        assert sent.status_code == 303, sent.text
        made = {
            r.original_id: r.message_id
            for original in (first, second)
            for r in (await engine.store.list_resends(original))[1]
        }
        await engine.store.set_status(made[first], "delivered")
        done = await sam.get(sent.headers["location"])
    assert done.status_code == 200, done.text
    page = done.text
    assert _text(page, "done-tally").startswith(tally), _text(page, "done-tally")
    assert _text(page, "done-now").startswith(now), _text(page, "done-now")
    # The way back comes before the rows, and the one not done is the first row.
    assert page.index('id="done-back"') < page.index('id="done-results"')
    body = page[page.index("<tbody>") :]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    assert f'href="/messages/{third}"' in rows[0], rows[0]
    # Each new message links to its page, beside its status now.
    status = {"en": ("delivered", "queued"), "nl": ("afgeleverd", "in de wachtrij")}[lang]
    for original, word in zip((first, second), status, strict=True):
        [row] = [r for r in rows if f'href="/messages/{original}"' in r]
        assert f'href="/messages/{made[original]}"' in row
        assert f">{word}</td>" in row, row


async def test_a_search_batch_confirmation_says_delivered_already_and_resent_before(
    engine: Engine,
) -> None:
    delivered = make_message(destination_id="noord", status="delivered")
    await engine.store.accept_event(make_event(zd_number="ZD000000042"), [delivered])
    await engine.store.set_status(delivered.id, "delivered")
    made = []
    for _ in range(2):  # resent twice before, by its id
        selection = await select_for_resend(engine.store, message_ids=[delivered.id])
        request = ResendRequest(reason="GP called", actor="colleague")
        [result] = await resend_in_engine(engine, selection, request)
        assert result.message is not None
        made.append(result.message.id)
    fresh = make_message(destination_id="noord", status="dead")
    await engine.store.accept_event(make_event(zd_number="ZD000000043"), [fresh])
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
        shown = await post(sam, "/messages/resend/confirm", {"zd_number": "ZD000000042"})
        assert shown.status_code == 200, shown.text
        said = _text(shown.text, "confirm-already")
        assert "1 of them was delivered already (see Status)" in said, said
        assert "1 of them was resent already (see Resent before, newest first)" in said, said
        row = re.search(rf'<tr><td><a href="/messages/{delivered.id}">.*?</tr>', shown.text)
        assert row is not None, shown.text
        assert "<td>delivered</td>" in row[0], row[0]
        assert "2 times:" in row[0], row[0]
        # Newest first, each linked.
        assert row[0].index(made[1]) < row[0].index(made[0])

        # One never resent, not delivered: nothing said above it.
        other = await post(sam, "/messages/resend/confirm", {"zd_number": "ZD000000043"})
        assert 'id="confirm-already"' not in other.text
        assert "<td>never</td>" in other.text

    async with signed_in(engine, "anna@example.org", Grant(Role.RESEND), lang="nl") as anna:
        shown = await post(anna, "/messages/resend/confirm", {"zd_number": "ZD000000042"})
        said = _text(shown.text, "confirm-already")
        assert "1 ervan is al afgeleverd" in said and "1 ervan is al herzonden" in said, said
