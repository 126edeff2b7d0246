"""What a support employee's walk through the Dutch console found, each fixed and held here,
request by request against a real engine (no browser), in the person's language:

- a dead letter that was resent, its resend dead too, says as what it was last resent and how
  that went, as ``integrator deadletter list`` says it (``open; last resent as 4343f9c8
  (dead)``), while both stay counted: two messages are dead;
- a destination typed into the dead letters' address that the listing refuses is said as
  refused and drawn nowhere in the page (its select offers only what the person may see);
- the values a rule allows are joined with the person's own "or" (``'routine' of 'urgent'``);
- the rejected input's list says each broken rule in words, one under the other;
- a message's HL7 section says it is the message as sent before, not what a resend sends;
- a message id that names none leads on to the message search.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.console.rule_text import values_joined
from integrator.engine import Engine
from integrator.errors import InvalidEvent
from integrator.store import AttemptRecord, NewResend
from tests.conftest import load_sample
from tests.console.started import card_and_lab_engine
from tests.console.test_saved_searches import START, signed_in
from tests.store.factories import make_event, make_message

WHY = "AR from the receiver"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """``noord`` in CARD and ``zuid`` in LAB (their ports answer nothing)."""
    async with card_and_lab_engine(tmp_path, START) as started:
        yield started


async def _dead(engine: Engine) -> str:
    """A dead letter of ``noord``, of a referral of its own: its id."""
    message = make_message(destination_id="noord", status="dead")
    await engine.store.accept_event(make_event(), [message])
    await engine.store.set_status(message.id, "dead", last_error=WHY)
    return message.id


async def _resent_dead(engine: Engine, message_id: str, to: str = "noord") -> str:
    """A colleague's resend of ``message_id`` to ``to``, as the store records one, dead too."""
    original = await engine.store.get_message(message_id)
    assert original is not None
    copy = make_message(destination_id=to, resend_of=message_id)
    await engine.store.add_resends([NewResend(original, copy, "original", "sue", "GP called")])
    await engine.store.set_status(copy.id, "dead", last_error=WHY)
    return copy.id


def _state_of(answer: str, message_id: str) -> str:
    """The *State* cell of ``message_id``'s row on the dead letters page, tags and all."""
    row = re.search(rf'<td[^>]*><a href="/messages/{message_id}">.*?</tr>', answer, re.S)
    assert row is not None, answer
    cell = re.search(r'<td data-label="(?:State|Afhandeling)">(.*?)</td>', row[0], re.S)
    assert cell is not None, row[0]
    return html.unescape(cell[1])


def _words(cell: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("nl", "open; laatst herzonden als {short} (onbestelbaar)"),
        ("en", "open; last resent as {short} (dead)"),
    ],
)
async def test_a_dead_letter_resent_says_as_what_and_how_that_went(
    engine: Engine, lang: str, said: str
) -> None:
    first = await _dead(engine)
    resend = await _resent_dead(engine, first)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang=lang) as sam:
        answer = await sam.get("/deadletters")
    assert answer.status_code == 200, answer.text
    older = _state_of(answer.text, first)
    # As the CLI says it (docs/console.md, Dead letters), the resend linked to its page.
    assert _words(older) == said.format(short=resend[:8])
    assert f'<a class="dead-resent" href="/messages/{resend}">{resend[:8]}</a>' in older
    # The resend itself was not resent: its state, and whose resend it is, linked.
    whose = "herzending van" if lang == "nl" else "a resend of"
    assert _words(_state_of(answer.text, resend)) == f"open; {whose} {first[:8]}"
    assert f'<a class="dead-resend-of" href="/messages/{first}">{first[:8]}</a>' in answer.text
    # Both stay counted: two messages are dead (one group of two).
    assert ("2 berichten" if lang == "nl" else "2 messages") in answer.text


async def test_a_resend_outside_the_readers_clusters_is_not_named_its_status_is(
    engine: Engine,
) -> None:
    first = await _dead(engine)
    elsewhere = await _resent_dead(engine, first, to="zuid")
    async with signed_in(engine, "carl@example.org", Grant(Role.RESEND, "CARD"), lang="nl") as c:
        answer = await c.get("/deadletters")
    assert answer.status_code == 200, answer.text
    assert _words(_state_of(answer.text, first)) == (
        "open; laatst herzonden als een bericht buiten je clusters (onbestelbaar)"
    )
    assert elsewhere not in answer.text and elsewhere[:8] not in answer.text


@pytest.mark.parametrize("typed", ["jan-van-der-berg-1961-04-12", "lab-wst", "zuid"])
async def test_a_destination_typed_into_the_address_is_refused_and_drawn_nowhere(
    engine: Engine, typed: str
) -> None:
    """``zuid`` exists, outside the reader's clusters: refused as any unknown one is."""
    await _dead(engine)
    async with signed_in(engine, "carl@example.org", Grant(Role.RESEND, "CARD"), lang="nl") as c:
        answer = await c.get("/deadletters", params={"destination": typed})
        shown = await c.get("/deadletters", params={"destination": "noord"})
    assert answer.status_code == 422, answer.text
    assert 'id="d-destination-error"' in answer.text  # said beside the field, as refused
    assert typed not in answer.text and typed not in html.unescape(answer.text)
    select = re.search(r'<select id="d-destination".*?</select>', answer.text, re.S)
    assert select is not None
    assert re.findall(r'<option value="([^"]*)"', select[0]) == ["", "noord"]
    assert "selected" not in select[0]
    # One the listing takes is chosen in the select.
    assert shown.status_code == 200, shown.text
    assert '<option value="noord" selected>noord</option>' in shown.text


async def _rejected(engine: Engine) -> str:
    """A referral intake refused for real: ``priority`` ``spoed``, no family name."""
    event = load_sample("referral")
    event["priority"] = "spoed"
    del event["patient"]["name"]["family"]
    with pytest.raises(InvalidEvent) as refused:
        await engine.intake.submit(json.dumps(event), source="http")
    assert refused.value.rejected_id is not None
    return refused.value.rejected_id


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("nl", "moet een van deze zijn: 'routine' of 'urgent'"),
        ("en", "must be one of 'routine' or 'urgent'"),
    ],
)
async def test_the_values_a_rule_allows_are_joined_in_the_persons_language(
    engine: Engine, lang: str, sentence: str
) -> None:
    rejected_id = await _rejected(engine)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang=lang) as sam:
        answer = await sam.get(f"/rejected/{rejected_id}")
    assert answer.status_code == 200, answer.text
    rules = re.search(r'<table id="rejected-rules">.*?</table>', answer.text, re.S)
    assert rules is not None
    assert f"<td>{sentence}</td>" in html.unescape(rules[0])
    assert " or " not in html.unescape(rules[0]) or lang == "en"


@pytest.mark.parametrize(
    ("expected", "dutch"),
    [
        ("'routine' or 'urgent'", "'routine' of 'urgent'"),
        ("'a', 'b' or 'c'", "'a', 'b' of 'c'"),
        ("'a, or b' or 'c'", "'a, or b' of 'c'"),  # a value's own "or" stays
        ("'a', 'b'", "'a', 'b'"),  # a tagged union's tags: no "or" to say
        ("'a'", "'a'"),
        ("\"it's\" or 'b'", "\"it's\" or 'b'"),  # not read safely: shown as stored
    ],
)
def test_the_values_a_rule_allows_are_read_safely(expected: str, dutch: str) -> None:
    assert values_joined("nl", expected) == dutch
    assert values_joined("en", expected) == expected


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nl", ["priority is geen van de toegestane waarden", "patient.name.family is verplicht"]),
        ("en", ["priority is not one of the allowed values", "patient.name.family is required"]),
    ],
)
async def test_the_rejected_list_says_each_rule_in_words_one_under_the_other(
    engine: Engine, lang: str, words: list[str]
) -> None:
    await _rejected(engine)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang=lang) as sam:
        answer = await sam.get("/rejected")
    assert answer.status_code == 200, answer.text
    cell = re.search(
        r'<td data-label="(?:Broken rules|Overtreden regels)">(.*?)</td>', answer.text, re.S
    )
    assert cell is not None, answer.text
    items = re.findall(r"<li>(.*?)</li>", cell[1], re.S)
    assert sorted(_words(html.unescape(i)) for i in items) == sorted(words)
    # A list, nothing between its items: no stray separator on a line of its own.
    assert re.fullmatch(r'<ul class="rules-listed">(<li>.*?</li>)+</ul>', cell[1].strip(), re.S)


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("nl", "Eerder verstuurd bericht (HL7)"), ("en", "Previously sent message (HL7)")],
)
async def test_a_message_s_hl7_says_it_is_the_message_as_sent_before(
    engine: Engine, lang: str, heading: str
) -> None:
    message_id = await _dead(engine)
    attempt = AttemptRecord(
        message_id=message_id,
        number=1,
        started_at=engine.clock.now(),
        duration_ms=4.0,
        outcome="deadletter",
        ack_code="AR",
        error=WHY,
    )
    await engine.store.record_attempt(attempt, status="dead", last_error=WHY)
    waiting = make_message(destination_id="noord")
    await engine.store.accept_event(make_event(), [waiting])
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang=lang) as sam:
        answer = await sam.get(f"/messages/{message_id}")
        unsent = await sam.get(f"/messages/{waiting.id}")
    assert answer.status_code == 200, answer.text
    found = re.search(r'<h2 id="hl7-h">(.*?)</h2>\s*<p class="hint" id="hl7-this">', answer.text)
    assert found is not None and html.unescape(found[1]) == heading
    # Below the resend's form, where its preview lands: the section says it is no resend.
    assert answer.text.index('id="resend-preview"') < answer.text.index('id="hl7-h"')
    assert ("herzending" if lang == "nl" else "resend") in answer.text.split('id="hl7-this">')[1]
    # Never tried: not said to have been sent.
    said = re.search(r'<h2 id="hl7-h">(.*?)</h2>', unsent.text)
    assert said is not None
    assert html.unescape(said[1]) == (
        "HL7-bericht (nog niet verstuurd)" if lang == "nl" else "HL7 message (not sent yet)"
    )


@pytest.mark.parametrize(
    ("lang", "link"), [("nl", "Zoek het op in Berichten"), ("en", "Look it up in Messages")]
)
async def test_a_message_id_that_names_none_leads_on_to_the_message_search(
    engine: Engine, lang: str, link: str
) -> None:
    await _dead(engine)
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang=lang) as sam:
        answer = await sam.get("/messages/47b6c553")
    assert answer.status_code == 404, answer.text
    assert f'<a id="search-again" href="/messages">{link}</a>' in answer.text


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("nl", "Deze pagina vraagt het recht messages.read, dat deze rollen geven: "),
        ("en", "This page needs the permission messages.read, which these roles give: "),
    ],
)
async def test_a_page_the_roles_do_not_allow_names_what_it_needs(
    engine: Engine, lang: str, said: str
) -> None:
    """An admin opening the messages was told "ask an administrator": they are one. The page
    names the permission and the roles that give it (the admin walkthrough)."""
    async with signed_in(engine, "anna@example.org", Grant(Role.ADMIN), lang=lang) as anna:
        answer = await anna.get("/messages")
    assert answer.status_code == 403, answer.text
    needs = _words(answer.text.split('id="forbidden-needs">', 1)[1].split("</p>", 1)[0])
    assert needs.startswith(said), needs
    assert "resend" in needs and "viewer" in needs
