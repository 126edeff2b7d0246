"""The destination page's *Send a test message* says how long the test may wait in all: the
connect timeout (TCP and, with TLS, its handshake) and the ACK timeout for each ACK awaited
(two in enhanced mode with an application ACK), from the settings the test sends with
(``delivery.exchange_bound``). It named the ACK timeout alone, so a receiver that did not
accept the connection kept the page waiting longer than it said. Request by request against
a real engine, in both languages."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.engine import Engine
from tests.console.test_saved_searches import signed_in
from tests.destinations.certificate_files import tls_files
from tests.integrator.support import destination, settings_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not found")

TIMEOUTS = {"connect_timeout": "3s", "ack_timeout": "4s"}
TESTER = (Grant(Role.DESTINATIONS, "CARD"), Grant(Role.PREVIEW, "CARD"))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """``plain`` (one ACK), ``enhanced`` (a commit and an application ACK) and ``secure``
    (TLS), each with a 3 s connect timeout and a 4 s ACK timeout; ``quick``: 1.5 s to connect
    (written ``1500ms``), 5 s for its ACK."""
    configs = [
        destination("plain", 2575, providers=["p1"], **TIMEOUTS),
        destination(
            "enhanced",
            2576,
            providers=["p2"],
            ack_mode="enhanced",
            application_ack_type="AL",
            **TIMEOUTS,
        ),
        destination("secure", 2577, providers=["p3"], tls=tls_files(tmp_path / "pki"), **TIMEOUTS),
        destination("quick", 2578, providers=["p4"], connect_timeout="1500ms", ack_timeout="5s"),
    ]
    started = Engine(
        settings_for(tmp_path, search_key="a-console-test-search-key"),
        catalog=build_catalog([(f"{c.id}.yaml", c) for c in configs], today=date(2026, 11, 27)),
    )
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


def _hint(page: str) -> str:
    found = re.search(r'<p class="hint" id="test-sending" role="status" hidden>(.*?)</p>', page)
    assert found, page
    return html.unescape(found[1])


async def test_the_test_send_says_the_whole_wait(engine: Engine) -> None:
    async with signed_in(engine, "tess@example.org", *TESTER) as tess:
        plain = _hint((await tess.get("/destinations/plain")).text)
        enhanced = _hint((await tess.get("/destinations/enhanced")).text)
        secure = _hint((await tess.get("/destinations/secure")).text)
    assert plain == (
        "Sending… this waits up to 7s in all: 3s to connect, then 4s for the receiver's ACK"
    )
    assert enhanced == (
        "Sending… this waits up to 11s in all: 3s to connect, then 4s for each of the "
        "receiver's two ACKs (commit ACK, application ACK)"
    )
    assert secure == (
        "Sending… this waits up to 7s in all: 3s to connect and make the TLS handshake, then "
        "4s for the receiver's ACK"
    )


async def test_the_test_send_says_the_whole_wait_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, "tom@example.org", *TESTER, lang="nl") as tom:
        plain = _hint((await tom.get("/destinations/plain")).text)
        enhanced = _hint((await tom.get("/destinations/enhanced")).text)
        secure = _hint((await tom.get("/destinations/secure")).text)
    assert plain == (
        "Bezig met versturen… dit wacht in totaal hoogstens 7s: 3s op de verbinding, dan 4s "
        "op de ACK van de ontvanger"
    )
    assert enhanced == (
        "Bezig met versturen… dit wacht in totaal hoogstens 11s: 3s op de verbinding, dan 4s "
        "op elk van de twee ACK's van de ontvanger (commit-ACK, applicatie-ACK)"
    )
    assert secure == (
        "Bezig met versturen… dit wacht in totaal hoogstens 7s: 3s op de verbinding en de "
        "TLS-handshake, dan 4s op de ACK van de ontvanger"
    )


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Sending… this waits up to 6.5s in all: 1.5s to connect, then 5s for the "),
        ("nl", "Bezig met versturen… dit wacht in totaal hoogstens 6.5s: 1.5s op de verbinding, "),
    ],
)
async def test_a_fraction_of_a_second_is_said_in_seconds(
    engine: Engine, lang: str, said: str
) -> None:
    """6.5 s read "6500ms" (the destination file's spelling for a fraction), a count to convert;
    the page's timeouts as well."""
    async with signed_in(engine, "quinn@example.org", *TESTER, lang=lang) as quinn:
        page = (await quinn.get("/destinations/quick")).text
    assert _hint(page).startswith(said), _hint(page)
    timeouts = re.search(r'<dd id="dest-timeouts">(.*?)</dd>', page)
    assert timeouts is not None and timeouts[1] == "1.5s / 5s"
    assert "ms" not in _hint(page)
