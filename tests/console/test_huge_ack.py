"""A message's page lays out at most the first 20,000 characters of its ACK and says how many
more there are: a receiver that echoed megabytes in MSA-3 made a page of megabytes, each
separator its own element. Through the console's own routes, in both languages."""

from __future__ import annotations

from pathlib import Path

import httpx

from integrator.console.pages.message import ACK_SHOWN_MAX
from integrator.http import create_app
from integrator.store import AttemptRecord
from tests.console import answered
from tests.console.started import noord_engine
from tests.console.test_query_bounds import signed_in
from tests.store.factories import make_event, make_message

WORDS = "Y" * 3_000_000


async def test_an_ack_of_megabytes_is_shown_cut_saying_how_much_more(tmp_path: Path) -> None:
    async with noord_engine(tmp_path) as engine:
        message = make_message(destination_id="noord")
        assert await engine.store.accept_event(make_event(), [message])
        ack = f"MSH|^~\\&|HIS\rMSA|AE|{message.control_id}|{WORDS}\r".encode()
        attempt = AttemptRecord(
            message_id=message.id,
            number=1,
            started_at=engine.clock.now(),
            duration_ms=3.0,
            outcome="failed",
            ack_code="AE",
            ack_bytes=ack,
            error="ACK AE: YYY",
        )
        await engine.store.record_attempt(attempt, status="retrying", last_error=attempt.error)
        more = len(ack) - ACK_SHOWN_MAX
        transport = answered.transport(create_app(engine))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://console.test"
        ) as browser:
            await signed_in(engine, browser)
            for language, said in (
                ("en", f"The first {ACK_SHOWN_MAX} characters of the ACK are shown; {more} more"),
                ("nl", f"De eerste {ACK_SHOWN_MAX} tekens van de ACK staan hier; nog {more} niet"),
            ):
                page = await browser.get(
                    f"/messages/{message.id}", headers={"accept-language": language}
                )
                assert page.status_code == 200, page.text
                assert said in page.text
                assert f"GET /api/v1/messages/{message.id}" in page.text
                assert len(page.text) < 200_000  # the ACK's first characters, not its megabytes
