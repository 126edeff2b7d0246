"""A search term of a closed set (event types, message versions, statuses) that is none of its
values is refused by name, listing the values; an empty listing never hides such a typo.

A provider is an open set (one may have events and no destination yet): it is not refused, but
an empty event listing for one nobody knows says so on stderr.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from destinations.config import EVENT_TYPES, dump_destination
from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.events_routing import EventsRefused, build_event_filter
from integrator.search import BadSearch, build_filter
from integrator.settings import Settings
from mappings.registry import REGISTRY
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for
from tests.integrator.test_cli_reading import cli, stored
from tests.store.factories import make_event, make_message

SETTINGS = Settings(timezone="Europe/Amsterdam")
TYPES = "one of referral, diagnostic_request"


@pytest.mark.parametrize(
    ("term", "value", "rule"),
    [
        ("event_type", "verwijzing", f"not an event type; {TYPES}"),
        ("version", "ref-v9", "not a message version; one of ref-v1, ref-v2, orm-lfdv1"),
        ("status", "afgeleverd", "not a message status; one of queued"),
    ],
)
def test_a_value_outside_a_closed_set_is_refused_listing_the_values(
    term: str, value: str, rule: str
) -> None:
    with pytest.raises(BadSearch) as refused:
        build_filter(SETTINGS, **{term: value})
    assert refused.value.field == term
    assert refused.value.rule.startswith(rule), refused.value.rule
    assert value not in str(refused.value)  # a value pasted into the wrong field may be a BSN


def test_every_value_of_the_sets_is_searched_retired_versions_too() -> None:
    for version in REGISTRY:  # orm-lfdv1 is retired; its messages stay in the store
        assert build_filter(SETTINGS, version=version).version == version
    for event_type in EVENT_TYPES:
        assert build_filter(SETTINGS, event_type=event_type).event_type == event_type
        assert build_event_filter(SETTINGS, event_type=event_type).event_type == event_type


def test_events_are_refused_an_event_type_by_the_same_rule() -> None:
    with pytest.raises(EventsRefused) as refused:
        build_event_filter(SETTINGS, event_type="verwijzing")
    assert refused.value.for_cli() == f"--event-type: not an event type; {TYPES}"
    assert refused.value.code == "search.event_type"


def test_the_cli_refuses_a_typo_naming_the_option_and_the_values(tmp_path: Path) -> None:
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    cases = [
        (("messages", "list", "--event-type", "verwijzing"), "--event-type: not an event type"),
        (("messages", "list", "--version", "ref-v9"), "--version: not a message version; one of"),
        (("messages", "list", "--status", "afgeleverd"), "--status: not a message status"),
        (("events", "list", "--event-type", "verwijzing"), "--event-type: not an event type"),
        (("resend", "--version", "ref-v9", "--reason", "x"), "--version: not a message version"),
    ]
    for args, expected in cases:
        refused = cli(env, *args)
        assert refused.exit_code == 2, (args, refused.output)
        said = " ".join(refused.stderr.split())
        assert expected in said, (args, said)
        assert not any(v in said for v in ("verwijzing", "ref-v9", "afgeleverd")), args
    assert TYPES in " ".join(cli(env, *cases[0][0]).stderr.split())
    assert "ref-v2" in " ".join(cli(env, *cases[1][0]).stderr.split())
    found = cli(env, "messages", "list", "--event-type", "referral", "--version", "ref-v2")
    assert found.exit_code == 0, found.output


def test_an_unknown_provider_lists_nothing_and_says_so(tmp_path: Path) -> None:
    env = stored(tmp_path, [(make_event(provider_id="lab-oost"), [])], timedelta(seconds=1))
    config = destination("lab-west", 2599, providers=["lab-west", "lab-zuid"])
    (tmp_path / "lab-west.yaml").write_text(dump_destination(config), encoding="utf-8")
    typo = cli(env, "events", "list", "--provider", "foo", "--json")
    assert typo.exit_code == 0, typo.output
    assert typo.stdout.strip() == "[]"
    assert (
        "no events of that provider (--provider), and no destination serves it; "
        "providers served: lab-west, lab-zuid"
    ) in " ".join(typo.stderr.split())
    # One a destination serves, or one only stored events name, may simply have none here.
    for known in ("lab-zuid", "lab-oost"):
        quiet = cli(env, "events", "list", "--provider", known, "--since", "1h")
        assert quiet.exit_code == 0, quiet.output
        assert "no events of that provider" not in quiet.stderr, known


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    engine = Engine(settings_for(tmp_path), catalog=build_catalog((), today=date(2026, 11, 27)))
    await engine.start()
    try:
        async with api_client(engine) as client:
            yield client
    finally:
        await engine.stop()


async def test_the_api_answers_422_naming_the_query_parameter(api: httpx.AsyncClient) -> None:
    for params, expected in (
        ({"version": "ref-v9"}, "version: not a message version; one of ref-v1"),
        ({"event_type": "verwijzing"}, f"event_type: not an event type; {TYPES}"),
    ):
        answer = await api.get("/api/v1/messages", params=params)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"].startswith(expected), answer.text
        in_body = await api.post("/api/v1/messages/search", json=params)
        assert in_body.status_code == 422 and in_body.json()["detail"].startswith(expected)
    events = await api.get("/api/v1/events", params={"event_type": "verwijzing"})
    assert events.status_code == 422
    assert events.json()["detail"].startswith(f"event_type: not an event type; {TYPES}")
    assert (await api.get("/api/v1/messages", params={"version": "orm-lfdv1"})).status_code == 200
