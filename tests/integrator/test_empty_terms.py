"""A search term given empty is refused, by name; only a term not given at all is "no filter".

A script whose lookup came back empty (``--bsn "$BSN"``, ``{"bsn": ""}``, ``?zd_number=``)
would otherwise be answered with every patient's records, shown as one patient's. The rule is
``search.given_term``, for every term of every search; the console's forms, which send every
field, take an empty field as one not given (``tests/console``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.audit import build_audit_filter
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.events_routing import EventsRefused, build_event_filter
from integrator.rejected_reads import build_rejected_filter
from integrator.search import EMPTY_RULE, BadSearch, build_filter
from integrator.settings import Settings
from tests.cli_in_process import json_error, run_cli
from tests.http.support import api_client
from tests.integrator.support import settings_for
from tests.integrator.test_cli_reading import stored
from tests.store.factories import make_event, make_message

SETTINGS = Settings(timezone="Europe/Amsterdam")
MESSAGE_TERMS = (
    "zd_number",
    "event_id",
    "control_id",
    "destination",
    "status",
    "version",
    "event_type",
    "since",
    "until",
    "bsn",
)


@pytest.mark.parametrize("blank", ["", "  "])
def test_every_term_of_every_search_refuses_an_empty_value_by_name(blank: str) -> None:
    searches: list[tuple[Any, tuple[str, ...]]] = [
        (build_filter, MESSAGE_TERMS),
        (build_event_filter, ("zd_number", "bsn", "provider", "event_type", "since", "until")),
        (
            build_audit_filter,
            ("actor", "action", "target", "message", "destination", "bsn", "since", "until"),
        ),
        (build_rejected_filter, ("since", "until", "source", "zd_number", "provider", "bsn")),
    ]
    for build, terms in searches:
        for term in terms:
            with pytest.raises((BadSearch, EventsRefused)) as refused:
                build(SETTINGS, **{term: blank})
            assert str(refused.value) == f"{term}: {EMPTY_RULE}", (build, term)
            assert isinstance(refused.value, BadSearch | EventsRefused)
            assert refused.value.code == "search.empty"
    # Not given at all: no filter.
    assert build_filter(SETTINGS) == build_filter(SETTINGS, bsn=None, zd_number=None)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    engine = Engine(settings_for(tmp_path), catalog=build_catalog((), today=date(2026, 11, 27)))
    await engine.start()
    try:
        await engine.store.accept_event(make_event(), [make_message()])
        async with api_client(engine) as client:
            yield client
    finally:
        await engine.stop()


async def test_the_api_answers_422_naming_an_empty_term_and_lists_nothing(
    api: httpx.AsyncClient,
) -> None:
    for path in ("messages", "events", "audit", "rejected"):
        for blank in ("", "  "):
            answer = await api.post(f"/api/v1/{path}/search", json={"bsn": blank})
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["detail"] == f"bsn: {EMPTY_RULE}", (path, answer.text)
    for path, query in (
        ("messages", "zd_number=&destination=&status="),
        ("messages", "since="),
        ("events", "provider="),
        ("audit", "actor="),
        ("rejected", "source="),
    ):
        answer = await api.get(f"/api/v1/{path}?{query}")
        assert answer.status_code == 422, (path, query, answer.text)
        field = query.partition("=")[0]
        assert answer.json()["detail"] == f"{field}: {EMPTY_RULE}", (path, answer.text)
    # A term not sent is no filter: the stored message is there to be found.
    assert len((await api.get("/api/v1/messages")).json()) == 1
    assert len((await api.post("/api/v1/messages/search", json={})).json()) == 1


def test_the_cli_refuses_an_empty_option_with_exit_2(tmp_path: Path) -> None:
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    for args, option in (
        (("messages", "list", "--bsn", ""), "--bsn"),
        (("messages", "list", "--zd", " "), "--zd"),
        (("messages", "list", "--destination", ""), "--destination"),
        (("events", "list", "--provider", ""), "--provider"),
        (("audit", "list", "--actor", ""), "--actor"),
        (("rejected", "list", "--source", ""), "--source"),
        (("resend", "--status", "", "--reason", "x", "--dry-run"), "--status"),
    ):
        refused = run_cli(*args, "--json", env=env) if args[0] != "resend" else None
        refused = refused or run_cli(*args, env=env)
        assert refused.returncode == 2, (args, refused.stdout, refused.stderr)
        assert f"{option}: {EMPTY_RULE}" in " ".join(refused.stderr.split()), args
        if args[0] == "resend":
            assert refused.stdout == "", args
        else:  # given --json: the refusal, as JSON, naming the option
            assert json_error(refused.stdout, 2)["fields"] == [option], args
    listed = run_cli("messages", "list", "--json", env=env)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1
