"""A pruned message's page still says which ACK it got: retention empties the ACK's bytes and
keeps its code (docs/operators.md), so the page must not say "No ACK yet" of a message the
receiver rejected. Through the console's own routes, no browser needed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from deadletter import discard
from integrator.http import create_app
from integrator.lifecycle.prune import prune
from integrator.lifecycle.retention import Retention
from integrator.store import AttemptRecord
from tests.console import answered
from tests.console.started import noord_engine
from tests.console.test_query_bounds import signed_in
from tests.store.factories import make_event, make_message


async def test_a_pruned_message_says_its_ack_code_not_no_ack(tmp_path: Path) -> None:
    async with noord_engine(tmp_path) as engine:
        store = engine.store
        message = make_message(destination_id="noord")
        assert await store.accept_event(make_event(), [message])
        now = engine.clock.now()
        rejected = AttemptRecord(
            message_id=message.id,
            number=1,
            started_at=now,
            duration_ms=3.0,
            outcome="deadletter",
            ack_code="AR",
            ack_bytes=b"MSH|^~\\&|HIS\rMSA|AR|x|onbekend\r",
            error="ACK AR: onbekend; gave up after 1 attempts (max_attempts 1)",
        )
        await store.record_attempt(rejected, status="dead", last_error=rejected.error)
        await discard(store, message.id, actor="local:anna", reason="sent by fax")
        retention = Retention(payload_days=90, dead_letter_days=30, rejected_days=30)
        report = await prune(store, retention, now=now + timedelta(days=40), actor="local:t")
        assert report.counts["dead_letters"] == 1

        transport = answered.transport(create_app(engine))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://console.test"
        ) as browser:
            await signed_in(engine, browser)
            for language, said in (
                ("en", "ACK AR was received; its text went with retention."),
                (
                    "nl",
                    "Er is een ACK AR ontvangen; de tekst ervan is opgeschoond (bewaartermijn).",
                ),
            ):
                page = await browser.get(
                    f"/messages/{message.id}", headers={"accept-language": language}
                )
                assert page.status_code == 200, page.text
                assert said in page.text
                assert "No ACK yet." not in page.text and "Nog geen ACK." not in page.text
