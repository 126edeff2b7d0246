"""Each destination's last delivery attempt in the listings: ``GET /api/v1/destinations`` and
the console's destinations page (``integrator destinations list``: ``tests/integrator/
test_cli_last_attempt.py``), as the destination's own page and ``GET …/{id}`` say it, from one
read for all the listed destinations. Who is told why, as there: the engine's own words to the
role ``destinations`` too, a negative ACK only to who may read the cluster's messages, never
the receiver's text. Request by request against a real engine on real files (no browser);
the destinations are paused, so that nothing delivers the messages made in the store."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from integrator.store import AttemptRecord
from tests.console.test_last_attempt import PATIENT, REFUSED_ERROR, _fact
from tests.console.test_saved_searches import signed_in
from tests.http.support import api_client, token_for
from tests.integrator.support import destination, engine_on_destinations, settings_for
from tests.store.factories import make_event, make_message
from tests.store.helpers import statements_sent

IDS = ("noord", "oost", "zuid", "west", "rond")
NACKED = f"ACK AE: {PATIENT} onbekend"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    configs = [
        destination(d, 2575 + n, providers=[f"p-{d}"], enabled=False, ordering="rotate")
        for n, d in enumerate(IDS)
    ]
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    async with engine_on_destinations(settings, *configs) as started:
        # noord: refused; oost: the receiver said no; zuid: delivered; west: never tried;
        # rond: the receiver said no to one message, still retrying, and took a later one.
        for destination_id, outcome, ack_code, error in (
            ("noord", "failed", None, REFUSED_ERROR),
            ("oost", "retry", "AE", NACKED),
            ("zuid", "delivered", "AA", None),
            ("rond", "retry", "AE", NACKED),
            ("rond", "delivered", "AA", None),
        ):
            message = make_message(destination_id=destination_id)
            await started.store.accept_event(make_event(), [message])
            attempt = AttemptRecord(
                message.id, 1, started.clock.now(), 3.0, outcome, ack_code=ack_code, error=error
            )
            status = "delivered" if outcome == "delivered" else "retrying"
            await started.store.record_attempt(attempt, status=status, last_error=error)
        yield started


def _listed(text: str, destination_id: str) -> str:
    """The *Last attempt* of ``destination_id``'s row in the destinations list, markup dropped."""
    row = re.search(rf'<a href="/destinations/{destination_id}">.*?</tr>', text, re.DOTALL)
    assert row is not None, text
    found = re.search(r'<td class="last-attempt">(.*?)</td>', row.group(0), re.DOTALL)
    assert found is not None, row.group(0)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


async def test_the_api_lists_each_last_attempt_by_who_asks(engine: Engine) -> None:
    said: dict[Role, dict[str, Any]] = {}
    for role in (Role.VIEWER, Role.DESTINATIONS):
        async with api_client(engine, await token_for(engine, Grant(role))) as api:
            answer = await api.get("/api/v1/destinations")
        assert answer.status_code == 200, answer.text
        assert PATIENT not in answer.text
        said[role] = {row["id"]: row["last_attempt"] for row in answer.json()}
    for rows in said.values():
        assert rows["west"] is None
        assert rows["zuid"] is not None and rows["zuid"]["outcome"] == "delivered"
        assert str(rows["zuid"]["at"]).endswith("+00:00")  # UTC, as the API gives times
        # The engine's own words: to the operator too.
        assert rows["noord"]["reason"] == REFUSED_ERROR
        assert (rows["oost"]["outcome"], rows["oost"]["ack_code"]) == ("retry", "AE")
    assert said[Role.VIEWER]["oost"]["reason"] == "ACK AE (receiver's text withheld)"
    assert said[Role.DESTINATIONS]["oost"]["reason"] is None
    # A later message delivered past one still retrying: that one is said beside it.
    for role, reason in (
        (Role.VIEWER, "ACK AE (receiver's text withheld)"),
        (Role.DESTINATIONS, None),
    ):
        rond = said[role]["rond"]
        assert (rond["outcome"], rond["reason"]) == ("delivered", None)
        assert rond["retrying"]["count"] == 1
        oldest = rond["retrying"]["last_attempt"]
        assert (oldest["outcome"], oldest["ack_code"], oldest["reason"]) == ("retry", "AE", reason)
    assert all(said[Role.VIEWER][d]["retrying"] is None for d in ("noord", "oost", "zuid"))
    # The same as the answer about each destination.
    async with api_client(engine, await token_for(engine, Grant(Role.DESTINATIONS))) as api:
        for destination_id in IDS:
            one = (await api.get(f"/api/v1/destinations/{destination_id}")).json()
            assert one["last_attempt"] == said[Role.DESTINATIONS][destination_id]


async def test_the_console_list_says_each_last_attempt_by_who_looks(engine: Engine) -> None:
    for lang, refused, nacked, retrying, behind in (
        (
            "en",
            "connect to 127.0.0.1:2575 failed: ConnectionRefusedError",
            "ACK AE (receiver's text withheld)",
            "failed, will retry",
            "delivered; 1 retrying, the oldest since ",
        ),
        (
            "nl",
            "verbinden met 127.0.0.1:2575 mislukt: de verbinding werd geweigerd",
            "de ontvanger antwoordde met ACK AE, fout bij het verwerken van het bericht (de "
            "tekst van de ontvanger wordt hier",
            "mislukt, wordt opnieuw geprobeerd",
            "afgeleverd; 1 wacht op een nieuwe poging, de oudste sinds ",
        ),
    ):
        shown: dict[Role, dict[str, str]] = {}
        for role in (Role.VIEWER, Role.DESTINATIONS):
            email = f"{role.value}-{lang}@example.org"
            async with signed_in(engine, email, Grant(role), lang=lang) as person:
                page = await person.get("/destinations")
                pages = {d: await person.get(f"/destinations/{d}") for d in ("noord", "rond")}
            assert page.status_code == 200
            assert PATIENT not in page.text
            shown[role] = {d: _listed(page.text, d) for d in IDS}
            for destination_id, one in pages.items():  # as the destination's own page says it
                assert one.status_code == 200
                assert _fact(one.text) == shown[role][destination_id]
        for role, said in shown.items():
            assert refused in said["noord"], (role, said)
            assert said["west"] == "-"
            assert said["zuid"].endswith(": " + ("delivered" if lang == "en" else "afgeleverd"))
            # Delivered, but an older message still retries: said beside it.
            assert f": {behind}" in said["rond"], (role, said["rond"])
            assert behind not in said["zuid"]
        assert nacked in shown[Role.VIEWER]["oost"]
        assert nacked in shown[Role.VIEWER]["rond"].split(behind, 1)[1]
        assert shown[Role.DESTINATIONS]["oost"].endswith(f": {retrying}")
        assert shown[Role.DESTINATIONS]["rond"].endswith(f": {retrying}")
        assert "ACK" not in shown[Role.DESTINATIONS]["oost"] + shown[Role.DESTINATIONS]["rond"]


async def test_the_listing_reads_the_last_attempts_once_for_all(engine: Engine) -> None:
    """Five destinations, one statement that reads attempts: not one or two per destination
    (``Store.last_attempts``)."""
    async with api_client(engine, await token_for(engine, Grant(Role.VIEWER))) as api:
        with statements_sent(engine.store) as statements:
            answer = await api.get("/api/v1/destinations")
    read = [sql for sql, _ in statements if " attempts" in sql]
    assert answer.status_code == 200
    assert len(answer.json()) == len(IDS)
    assert len(read) == 1, read
