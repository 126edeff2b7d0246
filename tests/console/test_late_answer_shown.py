"""A message's page shows the answers that came after its answer (an ``AR`` after the ``AA``
that delivered it): on its timeline, in both languages, to who reads it in full and to who
sees its summary only (a code and a time hold no patient data). Against a real engine, the
late answer written into its store as the engine keeps one (``integrator.late_answers``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store.late_answers import LateAnswerRecord
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


def _timeline(page: str) -> list[str]:
    found = re.findall(r'<li class="timeline-late-answer">(.*?)</li>', page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in found]


@pytest.mark.parametrize(
    ("lang", "role", "said"),
    [
        (
            "en",
            Role.RESEND,
            "Answered again after its answer: AR; the first answer stood (ask the receiver why)",
        ),
        (
            "nl",
            Role.VIEWER,
            "Na het antwoord opnieuw beantwoord: AR; het eerste antwoord gold (vraag de "
            "ontvanger waarom)",
        ),
    ],
)
async def test_a_late_answer_is_on_the_message_timeline(
    engine: Engine, lang: str, role: Role, said: str
) -> None:
    message = make_message(destination_id="noord")
    assert await engine.store.accept_event(make_event(), [message])
    came = engine.clock.now() + timedelta(seconds=2)
    await engine.store.record_late_answer(message.id, LateAnswerRecord(came, "AR", "dropped"))
    async with signed_in(engine, "lena@example.org", Grant(role), lang=lang) as lena:
        page = await lena.get(f"/messages/{message.id}")
        assert page.status_code == 200, page.text
    [line] = _timeline(page.text)
    assert line.endswith(said), line
    other = make_message(destination_id="noord")
    assert await engine.store.accept_event(make_event(), [other])
    async with signed_in(engine, "mo@example.org", Grant(role), lang=lang) as mo:
        assert _timeline((await mo.get(f"/messages/{other.id}")).text) == []
