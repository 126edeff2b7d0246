"""Why a destination is not delivering, where the operator looks: its tile and its page say its
last delivery attempt, when and why it failed, in the person's language, as the console words
a delivery's error. The reason is a message's fact: shown to who may read the cluster's
messages, and then only as ``short_reason`` gives it (a negative ACK by its code, never the
receiver's text, which can name the patient); who may only see destinations is told what came
of the attempt. Request by request against a real engine (no browser)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from destinations.client import CONNECT_FAILED, REFUSED
from destinations.worker import FAILED
from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.last_attempt import last_attempt
from integrator.store import AttemptRecord
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message

REFUSED_ERROR = FAILED(
    kind="ConnectFailed",
    cause=CONNECT_FAILED(
        where="127.0.0.1:2575",
        cause=REFUSED(detail="[Errno 111] Connect call failed ('127.0.0.1', 2575)"),
    ),
)
PATIENT = "Jansen"
"""What the receiver's negative ACK says: the patient's name, never to be shown."""


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with noord_engine(tmp_path) as started:
        yield started


async def _attempted(engine: Engine, *tries: tuple[str, str | None, str]) -> None:
    """One message of ``noord``, retrying after ``tries`` (outcome, ACK code, error)."""
    message = make_message(destination_id="noord")
    await engine.store.accept_event(make_event(), [message])
    for number, (outcome, ack_code, error) in enumerate(tries, start=1):
        attempt = AttemptRecord(
            message_id=message.id,
            number=number,
            started_at=engine.clock.now(),
            duration_ms=4.0,
            outcome=outcome,
            ack_code=ack_code,
            error=error,
        )
        await engine.store.record_attempt(attempt, status="retrying", last_error=error)


def _figure(text: str, name: str) -> str:
    """The tile's figure ``name``, its markup dropped."""
    found = re.search(rf'<dd data-figure="{name}">(.*?)</dd>', text, re.DOTALL)
    assert found is not None, text
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def _fact(text: str) -> str:
    """The destination page's *Last attempt*, its markup dropped."""
    found = re.search(r'<dd id="dest-last-attempt">(.*?)</dd>', text, re.DOTALL)
    assert found is not None, text
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


async def test_a_refused_connection_is_said_on_the_tile_and_the_page(engine: Engine) -> None:
    await _attempted(engine, ("failed", None, REFUSED_ERROR))
    seen: dict[str, tuple[str, str, str]] = {}
    for lang in ("en", "nl"):
        async with signed_in(
            engine, f"vera-{lang}@example.org", Grant(Role.VIEWER), lang=lang
        ) as vera:
            start, page = await vera.get("/"), await vera.get("/destinations/noord")
            figures = await vera.get("/dashboard/figures")
        assert start.status_code == page.status_code == figures.status_code == 200
        label = {"en": "Last attempt", "nl": "Laatste poging"}[lang]
        assert f"<dt>{label}</dt>" in start.text and f"<dt>{label}</dt>" in page.text
        seen[lang] = (
            _figure(start.text, "last-attempt"),
            _fact(page.text),
            _figure(figures.text, "last-attempt"),
        )
    tile, fact, refreshed = seen["en"]
    assert tile == fact == refreshed, seen
    assert "connect to 127.0.0.1:2575 failed: ConnectionRefusedError" in tile
    tile, fact, refreshed = seen["nl"]
    assert tile == fact == refreshed, seen
    assert "verbinden met 127.0.0.1:2575 mislukt: de verbinding werd geweigerd" in tile
    assert "(ConnectFailed)" in tile


async def test_a_negative_ack_says_its_code_and_never_the_receivers_words(engine: Engine) -> None:
    said = f"ACK AE: Patient {PATIENT} unknown"
    await _attempted(engine, ("failed", None, REFUSED_ERROR), ("retry", "AE", said))
    for lang, words in (
        ("en", "ACK AE (receiver's text withheld)"),
        (
            "nl",
            "de ontvanger antwoordde met ACK AE, fout bij het verwerken van het bericht (de "
            "tekst van de ontvanger wordt hier",
        ),
    ):
        async with signed_in(
            engine, f"rob-{lang}@example.org", Grant(Role.RESEND), lang=lang
        ) as rob:
            start, page = await rob.get("/"), await rob.get("/destinations/noord")
        assert words in _figure(start.text, "last-attempt")
        assert words in _fact(page.text)
        assert PATIENT not in start.text and PATIENT not in page.text
    found = await last_attempt(engine.store, "noord")
    assert found is not None
    assert (found.outcome, found.ack_code) == ("retry", "AE")
    assert found.reason == "ACK AE (receiver's text withheld)"


async def test_who_may_only_see_destinations_is_told_the_engines_own_words(
    engine: Engine,
) -> None:
    """A refused connection names no patient and is what an operator must fix: the role
    ``destinations`` is told it, in its language, as a reader of the messages is."""
    await _attempted(engine, ("retry", "AE", "ACK AE: x"), ("failed", None, REFUSED_ERROR))
    for lang, words in (
        ("en", "connect to 127.0.0.1:2575 failed: ConnectionRefusedError"),
        ("nl", "verbinden met 127.0.0.1:2575 mislukt: de verbinding werd geweigerd"),
    ):
        async with signed_in(
            engine, f"olga-{lang}@example.org", Grant(Role.DESTINATIONS), lang=lang
        ) as olga:
            start, page = await olga.get("/"), await olga.get("/destinations/noord")
        assert start.status_code == page.status_code == 200
        tile, fact = _figure(start.text, "last-attempt"), _fact(page.text)
        assert tile == fact and words in fact, (tile, fact)


async def test_a_negative_ack_cut_by_retention_stays_the_readers(engine: Engine) -> None:
    """Retention stores a negative ACK cut to its code; it is still the receiver's answer
    about a message, so the role ``destinations`` is told the outcome only."""
    await _attempted(engine, ("retry", "AE", "ACK AE (receiver's text withheld)"))
    async with signed_in(engine, "oscar@example.org", Grant(Role.DESTINATIONS)) as oscar:
        start, page = await oscar.get("/"), await oscar.get("/destinations/noord")
    tile, fact = _figure(start.text, "last-attempt"), _fact(page.text)
    assert tile == fact and fact.endswith(": failed, will retry"), (tile, fact)
    async with signed_in(engine, "vince@example.org", Grant(Role.VIEWER)) as vince:
        page = await vince.get("/destinations/noord")
    assert _fact(page.text).endswith(": ACK AE (receiver's text withheld)")


async def test_who_may_not_read_the_messages_is_told_the_outcome_not_why(engine: Engine) -> None:
    await _attempted(engine, ("failed", None, REFUSED_ERROR), ("retry", "AE", "ACK AE: x"))
    for lang, words in (("en", "failed, will retry"), ("nl", "mislukt, wordt opnieuw geprobeerd")):
        async with signed_in(
            engine, f"otto-{lang}@example.org", Grant(Role.DESTINATIONS), lang=lang
        ) as otto:
            start, page = await otto.get("/"), await otto.get("/destinations/noord")
        assert start.status_code == page.status_code == 200
        tile, fact = _figure(start.text, "last-attempt"), _fact(page.text)
        assert tile == fact and fact.endswith(f": {words}"), (tile, fact)
        assert "ACK AE" not in tile and "receiver" not in tile and "ontvanger" not in tile


async def test_no_attempt_yet_is_a_dash(engine: Engine) -> None:
    async with signed_in(engine, "nel@example.org", Grant(Role.VIEWER)) as nel:
        start, page = await nel.get("/"), await nel.get("/destinations/noord")
    assert _figure(start.text, "last-attempt") == "-"
    assert _fact(page.text) == "-"
    assert await last_attempt(engine.store, "noord") is None


async def test_the_api_answer_about_a_destination_says_its_last_attempt(engine: Engine) -> None:
    """``GET /api/v1/destinations/{id}`` from the same service function: a negative ACK's
    reason to a token that may read the cluster's messages, null to one that may only see
    destinations; the engine's own words (a refused connection) to both."""
    from tests.http.support import api_client, token_for

    roles = (Role.VIEWER, Role.DESTINATIONS)
    tokens = {role: await token_for(engine, Grant(role)) for role in roles}

    async def seen() -> dict[Role, dict[str, Any]]:
        said: dict[Role, dict[str, Any]] = {}
        for role, token in tokens.items():
            async with api_client(engine, token) as api:
                answer = await api.get("/api/v1/destinations/noord")
            assert answer.status_code == 200, answer.text
            assert PATIENT not in answer.text
            said[role] = answer.json()["last_attempt"]
            # UTC, as the API gives times (``paused_at``)
            assert str(said[role].pop("at")).endswith("+00:00"), said
        return said

    await _attempted(engine, ("failed", None, REFUSED_ERROR), ("retry", "AE", f"ACK AE: {PATIENT}"))
    nacked = await seen()
    shown = {"outcome": "retry", "ack_code": "AE", "retrying": None}
    assert nacked[Role.VIEWER] == {**shown, "reason": "ACK AE (receiver's text withheld)"}
    assert nacked[Role.DESTINATIONS] == {**shown, "reason": None}

    # A second message, refused; the first still retrying behind it is said beside it, its
    # negative ACK as the first was.
    await _attempted(engine, ("retry", "AE", f"ACK AE: {PATIENT}"), ("failed", None, REFUSED_ERROR))
    refused = await seen()
    for role, reason in (
        (Role.VIEWER, "ACK AE (receiver's text withheld)"),
        (Role.DESTINATIONS, None),
    ):
        retrying = refused[role].pop("retrying")
        assert retrying["count"] == 2
        assert str(retrying["since"]).endswith("+00:00")
        assert str(retrying["last_attempt"].pop("at")).endswith("+00:00")
        assert retrying["last_attempt"] == {"outcome": "retry", "ack_code": "AE", "reason": reason}
    expected = {"outcome": "failed", "ack_code": None, "reason": REFUSED_ERROR}
    assert refused[Role.VIEWER] == refused[Role.DESTINATIONS] == expected
