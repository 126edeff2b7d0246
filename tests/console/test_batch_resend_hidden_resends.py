"""A batch resend's confirmation, for a reader limited to some clusters, never says a message
was "never" resent: a resend to a destination outside their clusters is hidden from them, and
so is whether one exists. Such a reader reads "none you may see" (NL "geen die je mag zien")
whether or not a hidden resend exists; a reader of all clusters sees the resend, and "never"
only where there is none. Request by request against a real engine, in both languages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import NewResend
from tests.console.started import card_and_lab_engine
from tests.console.test_saved_searches import START, post, signed_in
from tests.store.factories import make_event, make_message

NONE_SEEN = {"en": "none you may see", "nl": "geen die je mag zien"}
NEVER = {"en": "never", "nl": "nooit"}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """``noord`` in CARD and ``zuid`` in LAB (their ports answer nothing: what is resent only
    waits to be sent)."""
    async with card_and_lab_engine(tmp_path, START) as started:
        yield started


async def _message(engine: Engine, zd_number: str) -> str:
    message = make_message(destination_id="noord", status="dead")
    await engine.store.accept_event(make_event(zd_number=zd_number), [message])
    return message.id


async def _resent_to_lab(engine: Engine, message_id: str) -> str:
    """A colleague's resend of ``message_id`` to ``zuid``, in LAB, as the store records one
    (the factory's event is no valid one to map again): the new message's id."""
    original = await engine.store.get_message(message_id)
    assert original is not None
    copy = make_message(destination_id="zuid", resend_of=message_id)
    await engine.store.add_resends([NewResend(original, copy, "remap", "colleague", "GP called")])
    return copy.id


def _earlier(answer: str, message_id: str) -> str:
    """The *Resent before* cell of ``message_id``'s row (the fifth)."""
    row = re.search(rf'<tr><td><a href="/messages/{message_id}">.*?</tr>', answer, re.S)
    assert row is not None, answer
    cells = re.findall(r"<td>(.*?)</td>", row[0], re.S)
    return str(cells[4])


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_a_reader_of_some_clusters_is_told_none_they_may_see_either_way(
    engine: Engine, lang: str
) -> None:
    hidden = await _message(engine, "ZD000000042")
    elsewhere = await _resent_to_lab(engine, hidden)
    never = await _message(engine, "ZD000000043")
    async with signed_in(engine, "carl@example.org", Grant(Role.RESEND, "CARD"), lang=lang) as c:
        with_hidden = await post(c, "/messages/resend/confirm", {"zd_number": "ZD000000042"})
        without = await post(c, "/messages/resend/confirm", {"zd_number": "ZD000000043"})
    assert with_hidden.status_code == without.status_code == 200, with_hidden.text
    # The same words whether or not a resend lies outside CARD: nothing tells them apart.
    assert _earlier(with_hidden.text, hidden) == NONE_SEEN[lang]
    assert _earlier(without.text, never) == NONE_SEEN[lang]
    assert elsewhere not in with_hidden.text


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_a_reader_of_all_clusters_sees_the_resend_and_never_where_there_is_none(
    engine: Engine, lang: str
) -> None:
    resent = await _message(engine, "ZD000000042")
    elsewhere = await _resent_to_lab(engine, resent)
    never = await _message(engine, "ZD000000043")
    async with signed_in(engine, "anna@example.org", Grant(Role.RESEND), lang=lang) as anna:
        shown = await post(anna, "/messages/resend/confirm", {"zd_number": "ZD000000042"})
        other = await post(anna, "/messages/resend/confirm", {"zd_number": "ZD000000043"})
    assert f'href="/messages/{elsewhere}"' in _earlier(shown.text, resent)
    assert _earlier(other.text, never) == NEVER[lang]
