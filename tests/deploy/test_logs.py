"""The engine's logs carry no patient data, through a whole day's kinds of work.

``integrator run`` as a process at log level ``debug``, its JSON log lines captured: events
accepted (a referral and a diagnostic request), one refused as bad input (kept with the raw
body), a NAK that makes a dead letter, a resend that delivers it, a patient's message read and a
search by BSN. Then every line is searched for the sample patients' identifying values.
"""

from __future__ import annotations

import asyncio
import copy
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from destinations.config import DestinationConfig, dump_destination
from tests.delivery.misbehaving import MisbehavingReceiver
from tests.http.support import bearer, engine_process, token_in_store
from tests.integrator.support import destination
from tests.transport.helpers import eventually

KEY = "a-test-search-key-of-enough-length"

pytestmark = pytest.mark.slow  # an engine process through a whole flow


def patient_values(*events: dict[str, Any]) -> set[str]:
    """What identifies the sample patients: BSN, names, address, phone numbers, e-mail, birth."""
    values: set[str] = set()
    for event in events:
        patient = event["patient"]
        name = patient["name"]
        address = patient.get("address", {})
        values.update(
            str(v)
            for v in (
                patient.get("bsn"),
                name.get("given"),
                name.get("family"),
                name.get("partner_family"),
                patient.get("birth_date"),
                patient.get("birth_date", "").replace("-", ""),  # as HL7 writes it
                address.get("street"),
                address.get("postcode"),
                patient.get("phone"),
                patient.get("mobile"),
                patient.get("email"),
            )
            if v
        )
    return values


@contextmanager
def collected(stream: Any) -> Iterator[list[str]]:
    """Every line of ``stream``, read by a thread while the test runs."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
    reader.start()
    try:
        yield lines
    finally:
        reader.join(timeout=30)


def write_destinations(env: dict[str, str], configs: list[DestinationConfig]) -> None:
    for config in configs:
        Path(env["INTEGRATOR_DESTINATIONS_DIR"], f"{config.id}.yaml").write_text(
            dump_destination(config)
        )


async def test_a_days_work_leaves_no_patient_data_in_the_logs(
    env: dict[str, str],
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
) -> None:
    env.update(INTEGRATOR_SEARCH_KEY=KEY, INTEGRATOR_LOG_LEVEL="debug")
    secrets = patient_values(referral_data, diagnostic_request_data)
    assert "999990019" in secrets and "Berg" in secrets and "El Amrani" in secrets
    async with MisbehavingReceiver(["AR"]) as receiver:
        write_destinations(
            env,
            [
                destination("noord", receiver.port, providers=["ziekenhuis-noord"]),
                destination("west", receiver.port, providers=["lab-west"]),
            ],
        )
        token = await token_in_store(env["INTEGRATOR_DATABASE_URL"])
        # every wait below is bounded itself; a watchdog over it all killed a slow engine
        with engine_process(env, watchdog=None) as process:
            assert process.stderr is not None
            with collected(process.stderr) as lines:
                base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
                async with httpx.AsyncClient(
                    base_url=base, headers=bearer(token), timeout=30
                ) as api:
                    assert await eventually(lambda: _answers(api), timeout=30)
                    await _work(api, receiver, referral_data, diagnostic_request_data)
                process.send_signal(signal.SIGTERM)
                loop = asyncio.get_running_loop()
                assert await loop.run_in_executor(None, process.wait, 60) == 0
    text = "\n".join(lines)
    for event in ("engine stopped", "message dead-lettered", "message delivered"):  # debug too
        assert f'"event": "{event}"' in text, event
    leaked = {value for value in secrets if value.lower() in text.lower()}
    assert not leaked, f"patient data in the logs: {sorted(leaked)}"


async def _answers(api: httpx.AsyncClient) -> bool:
    try:
        return (await api.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False


async def _work(
    api: httpx.AsyncClient,
    receiver: MisbehavingReceiver,
    referral: dict[str, Any],
    request: dict[str, Any],
) -> None:
    accepted = await api.post("/api/v1/events", json=referral)
    assert accepted.status_code == 202, accepted.text
    [message] = accepted.json()["messages"]

    async def status_is(message_id: str, status: str) -> bool:
        now: str = (await api.get(f"/api/v1/messages/{message_id}")).json()["status"]
        return now == status

    assert await eventually(lambda: status_is(message["message_id"], "dead"), timeout=30)
    lab = await api.post("/api/v1/events", json=dict(request, event_id=str(uuid.uuid4())))
    assert lab.status_code == 202, lab.text

    bad = copy.deepcopy(referral)
    bad.update(event_id=str(uuid.uuid4()), zd_number="ZD12")  # refused, stored with the BSN
    refused = await api.post("/api/v1/events", json=bad)
    assert refused.status_code == 422

    resent = await api.post(
        f"/api/v1/messages/{message['message_id']}/resend", json={"reason": "GP called"}
    )
    assert resent.status_code == 201, resent.text
    assert await eventually(lambda: len(receiver.log) == 3, timeout=30)
    assert [r.behaviour for r in receiver.log] == ["AR", "ok", "ok"]

    shown = await api.get(f"/api/v1/messages/{message['message_id']}")
    assert shown.status_code == 200
    found = await api.post("/api/v1/messages/search", json={"bsn": referral["patient"]["bsn"]})
    assert found.status_code == 200 and found.json()
