"""A listing cut by ``--limit`` says so on stderr, also with ``--json`` (stdout stays the JSON):
with the default limit a batch search must not look complete when it is not."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from integrator.store import Store
from tests.integrator.test_cli_reading import cli, stored
from tests.store.factories import make_event, make_message

LISTINGS = [
    ("messages", "list"),
    ("events", "list"),
    ("deadletter", "list"),
    ("audit", "list"),
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Three events with a dead message each, three audit entries, two rejected inputs."""
    batch = [(make_event(), [make_message(status="dead")]) for _ in range(3)]
    env = stored(tmp_path, batch, timedelta(seconds=1))

    async def fill() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            for n in range(3):
                await store.add_audit("local:tester", "test.entry", f"target-{n}")
            for source in ("http", "amqp"):
                await store.reject_event(b"{}", source, [{"path": "$", "rule": "r"}])

    asyncio.run(fill())
    return env


COUNTED = {("messages", "list"), ("deadletter", "list"), ("events", "list"), ("audit", "list")}
"""Listings that count what matches once cut (one cheap count): they say "N of M"."""
CSV = {("messages", "list"), ("events", "list"), ("audit", "list")}
"""Listings with a ``--csv`` form."""


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_listing_cut_by_its_limit_says_so_on_stderr(
    env: dict[str, str], listing: tuple[str, ...]
) -> None:
    said = "2 of 3 shown" if listing in COUNTED else "2 shown, more match"
    as_json = cli(env, *listing, "--limit", "2", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert len(json.loads(as_json.stdout)) == 2
    assert f"{said}; --limit to see more" in as_json.stderr, as_json.stderr
    table = cli(env, *listing, "--limit", "2")
    assert table.exit_code == 0, table.output
    assert f"{said}; --limit to see more" in table.stderr, table.stderr
    assert f"({said}" in table.stdout, table.stdout
    if listing in CSV:  # the file says it on stderr as the table does
        as_csv = cli(env, *listing, "--limit", "2", "--csv")
        assert as_csv.exit_code == 0, as_csv.output
        assert len(as_csv.stdout.strip().splitlines()) == 1 + 2
        assert f"{said}; --limit to see more" in as_csv.stderr, as_csv.stderr


def test_dead_letters_with_the_resolved_ones_are_not_counted(env: dict[str, str]) -> None:
    """``--all`` lists resolved ones too, which the count of open ones does not hold: it says
    that more match rather than a total that would be wrong."""
    cut = cli(env, "deadletter", "list", "--all", "--limit", "2", "--json")
    assert cut.exit_code == 0, cut.output
    assert "2 shown, more match; --limit to see more" in cut.stderr, cut.stderr
    one = cli(env, "deadletter", "list", "--destination", "ziekenhuis-noord", "--limit", "1")
    assert "1 of 3 shown; --limit to see more" in one.stderr, one.stderr


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_listing_its_limit_did_not_cut_says_nothing_more(
    env: dict[str, str], listing: tuple[str, ...]
) -> None:
    exact = cli(env, *listing, "--limit", "3", "--json")
    assert exact.exit_code == 0, exact.output
    assert len(json.loads(exact.stdout)) == 3
    assert "more" not in exact.stderr, exact.stderr


def test_a_counted_listing_says_how_many_match_in_all(env: dict[str, str]) -> None:
    for args in (("--json",), ()):
        cut = cli(env, "rejected", "list", "--limit", "1", *args)
        assert cut.exit_code == 0, cut.output
        assert "1 of 2 shown; --limit to see more" in cut.stderr, cut.stderr
    whole = cli(env, "rejected", "list", "--json")
    assert "shown" not in whole.stderr


@pytest.mark.parametrize("listing", [("events", "list"), ("audit", "list")])
def test_a_total_is_counted_no_further_than_its_bound(
    env: dict[str, str], listing: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``listing_totals.COUNTED_AT_MOST`` (or the limit, if more) the total says "more
    than": the audit trail can hold millions of entries, and a listing needs no more."""
    from integrator import listing_totals

    monkeypatch.setattr(listing_totals, "COUNTED_AT_MOST", 1)
    for args in (("--json",), (), ("--csv",)):  # the CSV as the table: not "more match"
        cut = cli(env, *listing, "--limit", "1", *args)
        assert cut.exit_code == 0, cut.output
        assert "1 of more than 2 shown; --limit to see more" in cut.stderr, cut.stderr
