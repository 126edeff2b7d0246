"""Every time the CLI prints is local with its offset (docs/support.md, "Times"), and ids in its
tables are short and taken back: the places a newcomer's walkthrough found that broke it.

Tables to the second, ``--json`` and CSV in full (microseconds), all in INTEGRATOR_TIMEZONE
(Europe/Amsterdam here: +01:00 in November).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integrator.test_cli_reading import (
    AMSTERDAM,
    SHOWN_TIME,
    cli,
    dead_letters,
    stored,
    three_seconds_apart,
)
from tests.store.factories import make_event, make_message

ANY_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]+[+-]\d{2}:\d{2}")
EVENTS = ("beef1111-0000-4000-8000-000000000000", "beef2222-0000-4000-8000-000000000000")


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_messages_csv_has_the_times_json_has(tmp_path: Path) -> None:
    """The CSV wrote UTC (+00:00) while the table and --json gave local time."""
    env, (_, middle, _) = three_seconds_apart(tmp_path)
    exported = cli(env, "messages", "list", "--csv")
    assert exported.exit_code == 0, exported.output
    listed = cli(env, "messages", "list", "--json")
    by_id = {r["id"]: r for r in json.loads(listed.stdout)}
    for row in csv_rows(exported.stdout):
        assert row["created_at"] == by_id[row["message_id"]]["created_at"]
        assert row["updated_at"] == by_id[row["message_id"]]["updated_at"]
    [row] = [r for r in csv_rows(exported.stdout) if r["message_id"] == middle]
    assert row["created_at"] == "2026-11-20T09:15:02.123456+01:00"


def test_events_json_and_csv_give_local_times_in_full(tmp_path: Path) -> None:
    """``events list --json`` and ``--csv`` gave received_at in UTC."""
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    listed = cli(env, "events", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [event] = json.loads(listed.stdout)
    assert event["received_at"] == "2026-11-20T09:15:00.123456+01:00"
    exported = cli(env, "events", "list", "--csv")
    assert exported.exit_code == 0, exported.output
    [row] = csv_rows(exported.stdout)
    assert row["received_at"] == event["received_at"]


def test_prune_dry_run_json_gives_its_moment_locally(tmp_path: Path) -> None:
    env = stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))
    dry = cli(env, "prune", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    at = datetime.fromisoformat(json.loads(dry.stdout)["at"])
    assert at.utcoffset() == at.astimezone(AMSTERDAM).utcoffset() != timedelta(0)


def test_dead_letter_show_gives_its_times_to_the_second(tmp_path: Path) -> None:
    """The summary printed ``created_at`` and ``dead_since`` with microseconds."""
    env = dead_letters(tmp_path, ["abcd1111-0000-4000-8000-000000000000"])
    shown = cli(env, "deadletter", "show", "abcd1111")
    assert shown.exit_code == 0, shown.output
    times = ANY_TIME.findall(shown.stdout)
    assert len(times) == 2, shown.stdout  # created_at and dead_since; no attempts
    assert all(SHOWN_TIME.fullmatch(t) and t.endswith("+01:00") for t in times), times
    detail = json.loads(cli(env, "deadletter", "show", "abcd1111", "--json").stdout)
    assert detail["created_at"] == "2026-11-20T09:15:00.123456+01:00"


@pytest.mark.parametrize("unrouted", [False, True])
def test_events_list_shows_short_ids_that_show_and_route_take_back(
    tmp_path: Path, unrouted: bool
) -> None:
    """The table printed whole 36-character ids; ``--json`` keeps them whole."""
    batch = [(make_event(id=e), [] if unrouted else [make_message()]) for e in EVENTS]
    env = stored(tmp_path, batch, timedelta(seconds=1))
    listing = cli(env, "events", "list", *(["--unrouted"] if unrouted else []))
    assert listing.exit_code == 0, listing.output
    assert "beef1111 " in listing.stdout and "beef2222 " in listing.stdout
    assert EVENTS[0] not in listing.stdout and EVENTS[1] not in listing.stdout
    as_json = cli(env, "events", "list", "--json")
    assert {r["id"] for r in json.loads(as_json.stdout)} == set(EVENTS)

    shown = cli(env, "events", "show", "beef2222", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["id"] == EVENTS[1]
    route = ("events", "route", "--reason", "connected", "--dry-run", "--json")
    dry = cli(env, *route[:2], "beef2222", *route[2:])
    # No destination serves the provider here: skipped, but it is that one event.
    assert [r["event_id"] for r in json.loads(dry.stdout)["skipped"]] == [EVENTS[1]], dry.output
    ambiguous = cli(env, *route[:2], "beef", *route[2:])
    assert ambiguous.exit_code == 2 and EVENTS[0] in ambiguous.stderr, ambiguous.output
    unknown = cli(env, "events", "show", "beee")
    assert unknown.exit_code == 2 and "no event with id starting with beee" in unknown.stderr
