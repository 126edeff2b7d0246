"""``sending`` is a message status no message is ever in: delivery does not write it (one more
store write per message on the hot path). A search by it is answered, empty, with a note that
says so, by the CLI (stderr, exit 0; stdout stays the listing, also as CSV) and the API
(``X-Integrator-Note``, also on its CSV export and on a resend selected by it); other statuses
get no note."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import httpx

from integrator.engine import Engine
from integrator.search import NEVER_SENDING, status_note
from tests.cli_in_process import run_cli
from tests.integrator.test_cli_reading import cli, stored
from tests.store.factories import make_event, make_message


def test_only_sending_has_a_note() -> None:
    assert status_note("sending") == NEVER_SENDING
    assert all(status_note(s) is None for s in ("queued", "retrying", "delivered", None))


def test_the_cli_answers_a_search_by_sending_with_a_note(tmp_path: Path) -> None:
    env = stored(tmp_path, [(make_event(), [make_message(status="queued")])], timedelta(seconds=1))
    sending = cli(env, "messages", "list", "--status", "sending", "--json")
    assert sending.exit_code == 0, sending.output
    assert json.loads(sending.stdout) == []
    assert "no message is ever in status sending" in sending.stderr
    assert "queued (or retrying)" in " ".join(sending.stderr.split())
    queued = cli(env, "messages", "list", "--status", "queued", "--json")
    assert queued.exit_code == 0 and len(json.loads(queued.stdout)) == 1
    assert "never" not in queued.stderr


async def test_the_api_answers_a_search_by_sending_with_a_note(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    answer = await api.get("/api/v1/messages", params={"status": "sending"})
    assert answer.status_code == 200 and answer.json() == []
    assert answer.headers["x-integrator-note"] == NEVER_SENDING
    searched = await api.post("/api/v1/messages/search", json={"status": "sending"})
    assert searched.status_code == 200 and searched.headers["x-integrator-note"] == NEVER_SENDING
    queued = await api.get("/api/v1/messages", params={"status": "queued"})
    assert queued.status_code == 200 and "x-integrator-note" not in queued.headers


def test_the_cli_csv_says_the_note_on_stderr_and_keeps_stdout_pure_csv(tmp_path: Path) -> None:
    env = stored(tmp_path, [(make_event(), [make_message(status="queued")])], timedelta(seconds=1))
    sending = run_cli("messages", "list", "--status", "sending", "--csv", env=env)
    assert sending.returncode == 0, sending.stderr
    assert "no message is ever in status sending" in sending.stderr
    [header] = list(csv.reader(io.StringIO(sending.stdout)))  # the header row only
    assert header[0] == "message_id" and "never" not in sending.stdout
    queued = run_cli("messages", "list", "--status", "queued", "--csv", env=env)
    assert queued.returncode == 0 and len(list(csv.reader(io.StringIO(queued.stdout)))) == 2
    assert "never" not in queued.stderr


async def test_the_api_csv_export_carries_the_note_in_its_header(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    exported = await api.get("/api/v1/messages.csv", params={"status": "sending"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["x-integrator-note"] == NEVER_SENDING
    assert "never" not in exported.text  # the body stays the CSV alone
    queued = await api.get("/api/v1/messages.csv", params={"status": "queued"})
    assert queued.status_code == 200 and "x-integrator-note" not in queued.headers


async def test_a_resend_by_status_sending_carries_the_note_dry_run_or_job(
    engine: Engine, api: httpx.AsyncClient
) -> None:
    body = {"filter": {"status": "sending"}, "reason": "receiver lost them"}
    planned = await api.post("/api/v1/resend", json={**body, "dry_run": True})
    assert planned.status_code == 200, planned.text
    assert planned.json()["total"] == 0
    assert planned.headers["x-integrator-note"] == NEVER_SENDING
    started = await api.post("/api/v1/resend", json=body)
    assert started.status_code == 202, started.text
    assert started.headers["x-integrator-note"] == NEVER_SENDING
    dead = await api.post(
        "/api/v1/resend", json={**body, "filter": {"status": "dead"}, "dry_run": True}
    )
    assert dead.status_code == 200 and "x-integrator-note" not in dead.headers
