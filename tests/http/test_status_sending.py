"""``sending`` is a message status no message is ever in: delivery does not write it (one more
store write per message on the hot path). A search by it is answered, empty, with a note that
says so, by the CLI (stderr, exit 0) and the API (``X-Integrator-Note``); other statuses get no
note."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx

from integrator.engine import Engine
from integrator.search import NEVER_SENDING, status_note
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
