"""The resend preview shows the message's own fields when a remap changes them (the patient's
name in PID, say): a view of patient data, recorded (``patient_data.view``, view
``resend.preview``, the person and the client's address) before the page is shown. A preview
that changes only MSH shows no patient data and records nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.store import AuditFilter
from tests.conftest import load_sample
from tests.console.test_saved_searches import post, signed_in
from tests.integrator.support import destination, settings_for


async def test_a_preview_showing_patient_fields_is_recorded(tmp_path: Path) -> None:
    async with MllpReceiver() as receiver:
        await _preview(tmp_path, receiver.port)


async def _preview(tmp_path: Path, port: int) -> None:
    latin1 = {"referral": "ref-v1", "diagnostic_request": "orm-v3"}  # ISO 8859-1: no "Ł"
    noord = destination("noord", port, providers=["ziekenhuis-noord"], messages=latin1)
    zuid = destination("zuid", 9, providers=["ziekenhuis-zuid"])
    engine = Engine(
        settings_for(tmp_path, search_key="a-console-test-search-key"),
        catalog=build_catalog(
            [("noord.yaml", noord), ("zuid.yaml", zuid)], today=date(2026, 11, 27)
        ),
    )
    await engine.start()
    try:
        referral = load_sample("referral")
        referral["patient"]["name"]["family"] = "Łukaszewska"
        [made] = (await engine.intake.submit(json.dumps(referral), source="cli")).messages
        assert await engine.wait_settled(timeout=10)
        url = f"/messages/{made.message_id}/resend/preview"
        async with signed_in(engine, "sam@example.org", Grant(Role.RESEND)) as sam:
            same = await post(sam, url, {"reason": "GP phoned", "mode": "remap"})
            unseen = await engine.store.list_audit(AuditFilter(action="patient_data.view"))
            remapped = await post(sam, url, {"reason": "GP phoned", "mode": "remap", "to": "zuid"})
        views = await engine.store.list_audit(AuditFilter(action="patient_data.view"))
    finally:
        await engine.stop()
    assert same.status_code == 200 and remapped.status_code == 200, remapped.text
    assert 'data-field="PID-' not in same.text and unseen == []  # only MSH differs
    assert "Łukaszewska" in remapped.text  # the patient's name, as zuid would get it
    [view] = views
    assert view.actor == "person:sam@example.org" and view.target == made.message_id
    assert view.details["view"] == "resend.preview"
    assert view.details["bsn_hash"] and view.details["event_id"]
    assert "source" in view.details
