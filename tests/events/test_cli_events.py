"""``integrator events list|show|route`` as run: the real store, files, engine and sockets."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from destinations.config import dump_destination
from integrator.cli import app
from integrator.preparing import UNROUTED
from tests.http.support import EVERY_ROLE, bearer, token_in_store
from tests.integrator.support import destination
from tests.integrator.test_cli import SAMPLES
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
BSN = "999990019"  # the sample referral's patient


def destination_file(tmp_path: Path, dest_id: str, port: int, provider: str) -> Path:
    """A definition outside the destinations directory, for ``destinations add``."""
    path = tmp_path / f"new-{dest_id}.yaml"
    path.write_text(dump_destination(destination(dest_id, port, providers=[provider])))
    return path


@pytest.fixture
def integrator(env: dict[str, str]) -> Any:
    """The ``integrator`` command in this process (the engine and receiver run as processes)."""
    runner = CliRunner()

    def run(*args: str, user: str | None = None) -> Result:
        return runner.invoke(app, list(args), env={**env, **({"USER": user} if user else {})})

    return run


def submit(integrator: Any, sample: str) -> dict[str, Any]:
    result = integrator("submit", "--json", str(SAMPLES / f"{sample}.json"))
    assert result.exit_code == 0, result.output
    [outcome] = json.loads(result.stdout)
    assert outcome["accepted"] is True and outcome["messages"] == []
    return dict(outcome)


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def without_ids(report: dict[str, Any]) -> list[dict[str, Any]]:
    results = copy.deepcopy([*report["routed"], *report["skipped"]])
    for result in results:
        for message in result["messages"]:
            del message["message_id"], message["control_id"]
    return results


def wait_for(check: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {timeout} s")


def test_unrouted_events_are_found_then_routed_into_the_store_and_through_the_engine(
    env: dict[str, str], tmp_path: Path, integrator: Any
) -> None:
    outcome = submit(integrator, "referral")  # no destination serves ziekenhuis-noord
    assert [w for w in outcome["warnings"] if "unrouted" in w] == [UNROUTED]  # no id quoted
    event_id = outcome["event_id"]

    listed = integrator("events", "list", "--unrouted", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(e["id"], e["unrouted"]) for e in as_json(listed)] == [(event_id, True)]
    shown = integrator("events", "show", event_id)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert "Unrouted" in text and f"integrator events route {event_id}" in text
    assert BSN in text and "Jan van der Berg" in text  # on the screen, as messages show does

    receiver_port = free_port()
    noord = destination_file(tmp_path, "noord", receiver_port, "ziekenhuis-noord")
    added = integrator("destinations", "add", str(noord))
    assert added.exit_code == 0, added.output
    warning = " ".join(added.stderr.split())
    assert "1 unrouted event(s) wait for provider 'ziekenhuis-noord'" in warning
    assert "integrator events route --provider ziekenhuis-noord" in warning

    select = ("events", "route", "--provider", "ziekenhuis-noord")
    dry = integrator(*select, "--reason", "noord connected", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    routed = integrator(*select, "--reason", "noord connected", "--json", user="anna")
    assert routed.exit_code == 0, routed.output
    report = as_json(routed)
    assert (report["via"], report["actor"], report["dry_run"]) == ("store", "local:anna", False)
    assert as_json(dry)["dry_run"] is True
    assert without_ids(as_json(dry)) == without_ids(report)
    [result] = report["routed"]
    [message] = result["messages"]
    assert (result["event_id"], message["destination"], message["status"]) == (
        event_id,
        "noord",
        "queued",
    )

    again = integrator("events", "route", event_id, "--reason", "again")
    assert again.exit_code == 1, again.output
    assert "already has a message for noord; not sent again" in " ".join(again.stdout.split())
    nothing_left = integrator(*select, "--reason", "x")
    assert nothing_left.exit_code == 0, nothing_left.output
    assert "No unrouted events for provider ziekenhuis-noord" in nothing_left.stdout
    typo = integrator("events", "route", "--provider", "ziekenhuis-zud", "--reason", "x")
    assert typo.exit_code == 2, typo.output
    assert typo.stderr.startswith(
        "error: --provider: no destination serves that provider, and no stored event names it; "
        "served: ziekenhuis-noord"
    ), typo.stderr
    assert as_json(integrator("events", "list", "--unrouted", "--json")) == []

    # The engine's API asks for a token; the CLI sends INTEGRATOR_TOKEN, made on the server.
    token = asyncio.run(
        token_in_store(env["INTEGRATOR_DATABASE_URL"], *EVERY_ROLE, name="support-cli")
    )
    env["INTEGRATOR_TOKEN"] = token
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "integrator", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for args in (("receiver", "--port", str(receiver_port), "--quiet"), ("run",))
    ]
    base = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"

    def status_of(message_id: str) -> str | None:
        try:
            status = httpx.get(
                f"{base}/api/v1/messages/{message_id}", timeout=2, headers=bearer(token)
            ).json()["status"]
        except httpx.HTTPError:
            return None
        return status if status == "delivered" else None

    try:
        # Queued in the store while no engine ran: sent when it starts.
        wait_for(lambda: status_of(message["message_id"]), "the routed message delivered")

        lab = submit(integrator, "diagnostic_request")  # via the engine; nobody serves lab-west
        lab_file = destination_file(tmp_path, "lab", receiver_port, "lab-west")
        added = integrator("destinations", "add", str(lab_file))
        assert added.exit_code == 0, added.output
        lab_route = ("events", "route", "--provider", "lab-west", "--reason", "lab connected")
        # The engine picks the new file up within a second; its dry run says when it has.
        wait_for(
            lambda: integrator(*lab_route, "--dry-run").exit_code == 0,
            "the engine serving lab-west",
        )
        # Its dry run goes the real run's way and says so: through the engine, as the token.
        dry = integrator(*lab_route, "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert "via the running engine, as token:support-cli" in " ".join(dry.stdout.split())
        # Without a token the engine refuses the dry run as it would the real run.
        del env["INTEGRATOR_TOKEN"]
        refused = [integrator(*lab_route, *dry_run) for dry_run in (("--dry-run",), ())]
        env["INTEGRATOR_TOKEN"] = token
        assert [r.exit_code for r in refused] == [1, 1]
        assert refused[0].stderr == refused[1].stderr
        engine_at = f"http://127.0.0.1:{env['INTEGRATOR_HTTP_PORT']}"
        assert f"the engine at {engine_at} refused: set INTEGRATOR_TOKEN" in refused[0].stderr
        through_engine = integrator(*lab_route, "--json")
        assert through_engine.exit_code == 0, through_engine.output
        report = as_json(through_engine)
        assert (report["via"], report["actor"]) == ("engine", "token:support-cli")
        [result] = report["routed"]
        assert result["event_id"] == lab["event_id"]
        wait_for(lambda: status_of(result["messages"][0]["message_id"]), "the lab message")
        audit = httpx.get(
            f"{base}/api/v1/audit", params={"target": lab["event_id"]}, headers=bearer(token)
        ).json()
        assert [(a["action"], a["actor"], a["reason"]) for a in audit] == [
            ("event.route", "token:support-cli", "lab connected")
        ]
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    engine_log = processes[1].stderr.read() if processes[1].stderr else ""
    assert BSN not in engine_log and "Berg" not in engine_log


def test_bad_input_exits_2_naming_the_option_and_changes_nothing(integrator: Any) -> None:
    run = integrator
    event_id = submit(integrator, "referral")["event_id"]
    unknown = str(uuid.uuid4())
    cases = [
        (("events", "route", "--provider", "ziekenhuis-noord"), "--reason: required"),
        (("events", "route", "--reason", "x"), "EVENT_ID… or --provider: say which events"),
        (
            ("events", "route", event_id, "--provider", "p", "--reason", "x"),
            "name event ids or a provider, not both",
        ),
        (("events", "route", unknown, "--reason", "x"), f"EVENT_ID: no event with id {unknown}"),
        (
            ("events", "route", BSN, "--reason", "x"),
            "EVENT_ID: no event has that id (9 digits, not repeated here",
        ),
        (("events", "route", "not-an-id", "--reason", "x"), "EVENT_ID: id 1 is not an event id"),
        (
            ("events", "route", "--provider", "p", "--since", "yesterday", "--reason", "x"),
            "--since: not an ISO date",
        ),
        (("events", "list", "--bsn", "123"), "--bsn: a BSN is 9 digits that pass the eleven-test"),
        (
            ("events", "list", "--event-type", "letter"),
            "--event-type: not an event type; one of referral",
        ),
        (("events", "show", unknown), f"no event with id {unknown}"),
        (("events", "show", BSN), "not repeated here"),
    ]
    for args, expected in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert expected in " ".join(result.stderr.split()), (args, result.stderr)
        if BSN in args:
            assert BSN not in result.output, args
    still = json.loads(run("events", "list", "--unrouted", "--json").stdout)
    assert [e["id"] for e in still] == [event_id]
    found = json.loads(run("events", "list", "--bsn", BSN, "--json").stdout)
    assert [e["id"] for e in found] == [event_id]
    skipped = run("events", "route", event_id, "--reason", "nobody serves it", "--json")
    assert skipped.exit_code == 1
    [result] = json.loads(skipped.stdout)["skipped"]
    assert result["note"] == "no destination serves provider 'ziekenhuis-noord' yet"
    plain = run("events", "route", event_id, "--reason", "nobody serves it")
    assert plain.exit_code == 1
    assert plain.stdout.startswith("Nothing routed: 0 of 1 event,"), plain.stdout
    shown = json.loads(run("events", "show", event_id, "--json").stdout)
    assert shown["unrouted"] is True and shown["messages"] == [] and shown["routings"] == []
