"""Every CLI listing's ``--json`` gives its times in INTEGRATOR_TIMEZONE with the offset.

The README promises it for every time the CLI shows; ``destinations history --json`` gave
UTC (it shares the API's rows) while ``tokens list --json`` gave local time. The test finds
the listings in the command tree itself (every ``list`` and ``history``, and ``versions``), so
a listing added later without a case here fails, and checks every time in their output.
Asia/Kathmandu (+05:45, no summer time) is an offset no other rule could give by accident.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer

from destinations.config import dump_destination
from integrator.cli import app
from integrator.store import Store
from tests.integrator.support import destination
from tests.integrator.test_cli_reading import cli, stored
from tests.store.factories import make_event, make_message

ZONE = "Asia/Kathmandu"
OFFSET = "+05:45"
ANY_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")

LISTINGS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("messages", "list"): (),
    ("events", "list"): (),
    ("rejected", "list"): (),
    ("deadletter", "list"): ("--all", "--since", "2000-01-01"),  # its dead_since, filtered on
    ("destinations", "list"): (),
    ("destinations", "history"): ("noord",),
    ("users", "list"): (),
    ("tokens", "list"): (),
    ("audit", "list"): (),
    ("keys", "list"): (),
    ("versions",): ("--usage",),
}
"""Each listing, with the arguments it needs here."""
WITHOUT_TIMES: frozenset[tuple[str, ...]] = frozenset(
    {("destinations", "list"), ("keys", "list"), ("versions",), ("users", "list")}
)
"""Listings that hold no time here: none at all (versions show sunset dates, which are days),
or only for a state this store has not got (a person's ``locked_until``)."""


def listing_commands() -> set[tuple[str, ...]]:
    """Every command that lists: ``list`` and ``history`` in any group, and ``versions``."""
    found: set[tuple[str, ...]] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))
        if path and (path[-1] in ("list", "history") or path == ("versions",)):
            found.add(path)

    walk(typer.main.get_command(app), ())
    return found


AS_RECORDED: dict[tuple[str, ...], str] = {("audit", "list"): "details"}
"""Keys whose values are shown as recorded: an audit entry's details are what its hash covers
(docs/access.md), so a time in them (an invitation's ``expires_at``) stays as written, UTC."""


def times_in(value: Any, left_as_recorded: str | None = None) -> list[str]:
    if isinstance(value, dict):
        return [
            t
            for k, v in value.items()
            if k != left_as_recorded
            for t in times_in(v, left_as_recorded)
        ]
    if isinstance(value, list):
        return [t for v in value for t in times_in(v, left_as_recorded)]
    return [value] if isinstance(value, str) and ANY_TIME.match(value) else []


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A store with something for every listing, and a destination file with a history."""
    message = make_message(destination_id="noord")
    env = {
        **stored(tmp_path, [(make_event(), [message])], timedelta(seconds=1)),
        "INTEGRATOR_TIMEZONE": ZONE,
        "USER": "piet",
    }
    config = destination("noord", 2575, providers=["ziekenhuis-noord"], cluster="CARD")
    (tmp_path / "noord.yaml").write_text(dump_destination(config))

    async def fill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            await store.set_status(message.id, "dead", last_error="AR from the receiver")
            await store.reject_event(
                b"{}", "http", [{"path": "$", "rule": "json", "message": "not an event"}]
            )

    asyncio.run(fill())
    for args in (
        ("destinations", "pause", "noord", "--reason", "maintenance"),
        ("users", "create-admin", "anna@example.nl"),
        ("tokens", "create", "ops", "--role", "metrics", "--expires", "30d"),
    ):
        done = cli(env, *args)
        assert done.exit_code == 0, done.output
    return env


def test_the_cases_here_are_every_listing_the_cli_has() -> None:
    assert listing_commands() == set(LISTINGS)


def test_every_listing_gives_its_times_in_the_configured_zone(env: dict[str, str]) -> None:
    for command, args in LISTINGS.items():
        listed = cli(env, *command, *args, "--json")
        assert listed.exit_code == 0, (command, listed.output)
        times = times_in(json.loads(listed.stdout), AS_RECORDED.get(command))
        if command not in WITHOUT_TIMES:
            assert times, f"{' '.join(command)} --json gave no time to check"
        wrong = [t for t in times if not t.endswith(OFFSET)]
        assert wrong == [], f"{' '.join(command)} --json: {wrong}"
