"""``integrator resend`` selects by every identifier term the API's batch resend takes.

A support review found that ``POST /api/v1/resend`` selects by MSH-10 (``control_id``), event
id and event type, and ``integrator resend`` did not: a hospital that reads out "message
ZD…-3 with MSH-10 X" could be resent to from the API but not from the command line. These run
the command on a real store (no engine: the resends are stored), then through a running engine
beside the API itself, which must select the same messages for the same terms.

There is no ``--bsn``: the CLI takes a BSN only as an option (``messages list --bsn``), which
the shell's history and the process list keep; the resend by BSN stays the API's and the
console's (the test below holds the command to that).
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from destinations.receiver import MllpReceiver
from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.cli_in_process import run_cli as cli
from tests.http.support import api_client, token_for
from tests.resend.support import NOORD, Desk
from tests.resend.test_cli_through_engine import serving_engine


def diagnostic(data: dict[str, Any]) -> dict[str, Any]:
    """The sample diagnostic request, for the provider the desk's ``noord`` serves."""
    event = copy.deepcopy(data)
    event["provider"] = {**event["provider"], "id": NOORD}
    return event


def planned(desk: Desk, *terms: str) -> tuple[int, dict[str, Any]]:
    """The dry run of a resend by ``terms``: its exit code and its JSON report."""
    result = cli("resend", *terms, "--reason", "GP called", "--dry-run", "--json", env=desk.env)
    return result.returncode, json.loads(result.stdout)


def ids_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [r["original_id"] for r in rows]


def test_each_new_term_selects_its_messages_in_the_store(
    desk: Desk, referral_data: dict[str, Any], diagnostic_request_data: dict[str, Any]
) -> None:
    first = desk.submit(referral_data, "ZD810000001")
    second = desk.submit(referral_data, "ZD810000002")
    lab = desk.submit(diagnostic(diagnostic_request_data), "ZD810000003")
    for message_id in (first, second, lab):
        desk.set_status(message_id, "delivered")
    message = desk.message(first)

    # MSH-10 as the hospital reads it out over the phone: in lower case, with spaces around.
    code, by_control_id = planned(desk, "--control-id", f" {message.control_id.lower()} ")
    assert code == 0, by_control_id
    assert ids_of(by_control_id["would_resend"]) == [first]
    # An event id as listings show it: its first eight characters.
    code, by_event = planned(desk, "--event-id", message.event_id[:8])
    assert code == 0 and ids_of(by_event["would_resend"]) == [first], by_event
    code, by_type = planned(desk, "--event-type", "Diagnostic_Request")
    assert code == 0 and ids_of(by_type["would_resend"]) == [lab], by_type
    # Terms combine (AND), as every search's do.
    code, none = planned(
        desk, "--control-id", message.control_id, "--event-type", "diagnostic_request"
    )
    assert code == 1 and none["total"] == 0

    # The dry run's text names what it selected, and resends nothing.
    text = cli(
        "resend", "--event-type", "referral", "--reason", "x", "--dry-run", env=desk.env
    ).stdout
    flat = " ".join(text.split())
    assert "Dry run: 2 of 2 messages would be resent via the store" in flat, text
    assert f"would resend {first} → {NOORD}" in flat and f"would resend {second}" in flat
    assert lab not in flat
    assert desk.resends_of(first) == []

    # Resent once; then an MSH-10 or an event id names it (resent again), as a ZD number does,
    # while the event type is a broad filter, which skips one with a live resend.
    done = cli("resend", "--control-id", message.control_id, "--reason", "GP", env=desk.env)
    assert done.returncode == 0, done.stderr
    assert len(desk.resends_of(first)) == 1
    for named in (("--control-id", message.control_id), ("--event-id", message.event_id)):
        code, again = planned(desk, *named)
        assert code == 0 and ids_of(again["would_resend"]) == [first], (named, again)
    code, broad = planned(desk, "--event-type", "referral")
    assert code == 1
    assert ids_of(broad["would_resend"]) == [second]
    assert ids_of(broad["would_skip"]) == [first]
    assert f"already resent to {NOORD}" in broad["would_skip"][0]["note"]


def test_a_bad_value_is_refused_naming_the_option_and_the_rule(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    message_id = desk.submit(referral_data, "ZD810000011")
    desk.set_status(message_id, "delivered")
    unknown = str(uuid.uuid4())
    cases = [
        (("--event-type", "verwijzing"), "--event-type: not an event type; one of referral, "),
        (("--control-id", " "), "--control-id: given but empty; give a value, or leave it out"),
        (("--event-id", ""), "--event-id: given but empty"),
        (("--event-id", unknown), f"--event-id: no event with id {unknown}"),
        # A BSN typed into the wrong option is not repeated.
        (("--event-id", "999990019"), "--event-id: no event has that id (9 digits, "),
    ]
    audited = desk.audit_size()
    for terms, rule in cases:
        for dry in ((), ("--dry-run",)):
            result = cli("resend", *terms, "--reason", "x", *dry, env=desk.env)
            assert result.returncode == 2, (terms, result.stdout, result.stderr)
            said = " ".join(result.stderr.split())
            assert said.startswith(f"error: {rule}"), (terms, said)
            assert "999990019" not in said
    assert desk.resends_of(message_id) == [] and desk.audit_size() == audited
    # No --bsn: a patient's number would stay in the shell's history and the process list.
    no_bsn = cli("resend", "--bsn", "999990019", "--reason", "x", env=desk.env)
    assert no_bsn.returncode == 2 and "No such option" in no_bsn.stderr


async def test_the_cli_and_the_api_select_the_same_messages_for_the_same_terms(
    env: dict[str, str],
    tmp_path: Path,
    referral_data: dict[str, Any],
    diagnostic_request_data: dict[str, Any],
) -> None:
    async with MllpReceiver() as noord, serving_engine(env, tmp_path, noord.port) as engine:
        token = await token_for(engine, Grant(Role.RESEND), name="desk")
        env = {**env, "INTEGRATOR_TOKEN": token}
        first = await submitted(engine, referral_data, "ZD820000001")
        second = await submitted(engine, referral_data, "ZD820000002")
        lab = await submitted(engine, diagnostic(diagnostic_request_data), "ZD820000003")
        message = await engine.store.get_message(first)
        assert message is not None
        # One with a live resend already: a broad filter skips it, a naming one does not.
        async with api_client(engine, token) as api:
            one = await api.post(f"/api/v1/messages/{first}/resend", json={"reason": "before"})
            assert one.status_code == 201, one.text
            assert await engine.wait_settled(timeout=10)

            cases: list[dict[str, str]] = [
                {"control_id": message.control_id.lower()},
                {"event_id": message.event_id},
                {"event_type": "diagnostic_request"},
                {"event_type": "referral"},
                {"event_type": "referral", "destination": NOORD, "status": "delivered"},
                {"control_id": message.control_id, "event_type": "referral"},
                {"event_id": message.event_id, "event_type": "diagnostic_request"},
            ]
            seen: set[str] = set()
            for terms in cases:
                body = {"reason": "GP called", "filter": terms, "dry_run": True}
                answer = await api.post("/api/v1/resend", json=body)
                assert answer.status_code == 200, answer.text
                by_api = sorted((r["original_id"], r["outcome"]) for r in answer.json()["results"])

                options = [a for k, v in terms.items() for a in (f"--{k.replace('_', '-')}", v)]
                result = await asyncio.to_thread(
                    cli, "resend", *options, "--reason", "GP called", "--dry-run", "--json", env=env
                )
                report = json.loads(result.stdout)
                assert report["via"] in ("engine", None), report
                rows = report["would_resend"] + report["would_skip"]
                by_cli = sorted((r["original_id"], r["outcome"]) for r in rows)
                assert by_cli == by_api, terms
                seen.update(i for i, _ in by_api)
            # The cases between them selected each message, named and broadly.
            assert seen == {first, second, lab}


async def submitted(engine: Engine, data: dict[str, Any], zd_number: str) -> str:
    """``data`` taken in under a new event id and ``zd_number``; its message's id, settled."""
    event = {**copy.deepcopy(data), "event_id": str(uuid.uuid4()), "zd_number": zd_number}
    result = await engine.intake.submit(json.dumps(event), source="cli")
    assert await engine.wait_settled(timeout=10)
    return result.messages[0].message_id
