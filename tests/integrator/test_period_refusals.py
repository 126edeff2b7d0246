"""A period that can hold nothing, and a local time the zone has twice or not at all, are
refused wherever a period is taken, instead of answered with a list that is empty or an hour
off: the shared reading (``integrator.search``), the CLI (exit 2, naming the options and what
they resolved to) and the API (422 naming the fields). The console's side is in
``tests/console/test_period_refusals.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.catalog import build_catalog
from integrator.engine import Engine
from integrator.search import BadPeriod, BadSearch, build_filter, parse_moment
from integrator.settings import Settings
from tests.cli_in_process import run_cli
from tests.http.support import api_client
from tests.integrator.support import destination, settings_for
from tests.integrator.test_cli_reading import SHOWN_TIME, cli, stored
from tests.store.factories import make_event, make_message

AMSTERDAM = Settings(timezone="Europe/Amsterdam", search_key="period-refusals-test-key")
NOW = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


# -- the shared reading -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2h", "3h"),  # two hours ago is after three hours ago
        ("2026-11-27", "2026-11-26"),  # the 27th starts where the 26th ends
        ("2026-11-27T09:00+01:00", "2026-11-27T07:59:59Z"),  # that second ends at 09:00
        ("2026-11-27T10:00", "2026-11-27T09:59"),  # the until's minute ends at 10:00
    ],
)
def test_a_period_that_starts_at_or_after_its_end_is_refused(since: str, until: str) -> None:
    with pytest.raises(BadPeriod) as refused:
        build_filter(AMSTERDAM, since=since, until=until)
    text = str(refused.value)  # as the API says it: no time, so no date pasted in by mistake
    assert text == (
        "since and until: the period starts at or after it ends; give a since earlier than "
        "the until"
    )
    assert refused.value.field == "until" and refused.value.code == "search.period"
    cli = refused.value.terms_rule("--since", "--until")
    assert len(SHOWN_TIME.findall(cli)) == 2, cli  # both bounds, as listings show times


def test_the_refusal_names_what_each_bound_resolved_to_and_one_day_is_taken() -> None:
    with pytest.raises(BadPeriod) as refused:
        build_filter(AMSTERDAM, since="2026-11-27", until="2026-11-26")
    # The until, a date, runs to the end of its day: the rule says so, or the two moments,
    # equal, would look like a contradiction of the two different dates typed.
    assert refused.value.terms_rule("--since", "--until") == (
        "the period starts at or after it ends: --until 2026-11-26 runs to the end of that day "
        "(2026-11-27T00:00:00+01:00), which is not after --since 2026-11-27 "
        "(2026-11-27T00:00:00+01:00); give a --since earlier than the --until"
    )
    # A period of one day, or of the one second a listing shows, is not empty.
    day = build_filter(AMSTERDAM, since="2026-11-27", until="2026-11-27")
    assert (day.since, day.until) == (
        datetime(2026, 11, 26, 23, tzinfo=UTC),
        datetime(2026, 11, 27, 23, tzinfo=UTC),
    )
    shown = "2026-11-27T09:15:02+01:00"
    second = build_filter(AMSTERDAM, since=shown, until=shown)
    assert second.since is not None and second.until is not None
    assert second.until - second.since == timedelta(seconds=1)


@pytest.mark.parametrize("term", ["since", "until"])
@pytest.mark.parametrize("typed", ["2026-10-25T02:30", "2026-10-25 02:30:00", "2026-10-25T02"])
def test_a_local_time_that_happens_twice_is_refused_saying_how_to_give_it(
    term: str, typed: str
) -> None:
    """On 25 October 2026 the clocks in Amsterdam go from 03:00 back to 02:00: 02:30 is both
    00:30 and 01:30 UTC, and was taken as the first without a word."""
    terms: dict[str, Any] = {term: typed}
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, **terms)
    text = str(refused.value)
    assert text.startswith(f"{term}: 2026-10-25T02:")
    assert "is ambiguous in Europe/Amsterdam" in text
    assert "+02:00 is the first" in text and "+01:00 the second" in text
    assert "or a time in UTC (2026-10-25T00:" in text
    assert refused.value.code == "search.ambiguous"


@pytest.mark.parametrize("term", ["since", "until"])
@pytest.mark.parametrize("typed", ["2026-03-29T02:30", "2026-03-29 02:00", "2026-03-29T02:59:59"])
def test_a_local_time_the_clocks_skip_is_refused_saying_how_to_give_it(
    term: str, typed: str
) -> None:
    """On 29 March 2026 the clocks go from 02:00 to 03:00: no clock in Amsterdam showed 02:30,
    and it was taken as 01:30 UTC without a word."""
    terms: dict[str, Any] = {term: typed}
    with pytest.raises(BadSearch) as refused:
        build_filter(AMSTERDAM, **terms)
    text = str(refused.value)
    assert text.startswith(f"{term}: 2026-03-29T02:")
    assert "does not exist in Europe/Amsterdam" in text
    assert "give a time that exists, or give the offset, e.g. 2026-03-29T02:" in text
    assert "+01:00, or a time in UTC, e.g. 2026-03-29T01:" in text
    assert refused.value.code == "search.nonexistent"


def test_the_suggested_ways_and_every_time_that_exists_once_are_taken() -> None:
    def at(text: str, settings: Settings = AMSTERDAM) -> datetime:
        return parse_moment(text, settings)

    for refused in ("2026-10-25T02:30", "2026-03-29T02:30"):  # as the tests above
        with pytest.raises(BadSearch):
            at(refused)
    assert at("2026-10-25T02:30+02:00") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert at("2026-10-25T02:30+01:00") == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert at("2026-10-25T00:30Z") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert at("2026-03-29T02:30+01:00") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert at("2026-03-29T01:30Z") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # Around the change, local times that exist once are local times as before.
    assert at("2026-10-25T01:59") == datetime(2026, 10, 24, 23, 59, tzinfo=UTC)
    assert at("2026-10-25T03:00") == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert at("2026-03-29T01:59") == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert at("2026-03-29T03:00") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    # A whole day is taken: it starts and ends at midnight, which exists once.
    day = build_filter(AMSTERDAM, since="2026-10-25", until="2026-10-25")
    assert day.since is not None and day.until is not None
    assert day.until - day.since == timedelta(hours=25)
    # The end of the hour before the repeated one is where that hour ends, not an hour later.
    hour = build_filter(AMSTERDAM, until="2026-10-25T01").until
    assert hour == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    # A zone without summer time has every local time once.
    kathmandu = Settings(timezone="Asia/Kathmandu", search_key="period-refusals-test-key")
    assert at("2026-10-25T02:30", kathmandu) == datetime(2026, 10, 24, 20, 45, tzinfo=UTC)


# -- the command line ---------------------------------------------------------------------------

EVERY_PERIOD: list[tuple[str, ...]] = [
    ("messages", "list"),
    ("messages", "list", "--csv"),
    ("events", "list"),
    ("events", "route", "--provider", "ziekenhuis-noord", "--reason", "test", "--dry-run"),
    ("audit", "list"),
    ("rejected", "list"),
    ("deadletter", "list"),
    ("resend", "--reason", "test"),
    ("resend", "--reason", "test", "--dry-run"),
]
"""Every command that takes ``--since`` and ``--until``."""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return stored(tmp_path, [(make_event(), [make_message()])], timedelta(seconds=1))


@pytest.mark.parametrize("command", EVERY_PERIOD, ids=" ".join)
def test_every_command_refuses_a_period_that_ends_before_it_starts(
    env: dict[str, str], command: tuple[str, ...]
) -> None:
    refused = cli(env, *command, "--since", "2h", "--until", "3h")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "--since and --until: the period starts at or after it ends" in said, said
    [since, until] = SHOWN_TIME.findall(said)
    assert datetime.fromisoformat(since) - datetime.fromisoformat(until) == timedelta(hours=1)
    assert refused.stdout == ""


def test_the_cli_says_that_an_until_given_as_a_date_runs_to_the_end_of_that_day(
    env: dict[str, str],
) -> None:
    refused = cli(env, "messages", "list", "--since", "2026-12-02", "--until", "2026-12-01")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert said.endswith(
        "error: --since and --until: the period starts at or after it ends: --until 2026-12-01 "
        "runs to the end of that day (2026-12-02T00:00:00+01:00), which is not after --since "
        "2026-12-02 (2026-12-02T00:00:00+01:00); give a --since earlier than the --until"
    ), said


def test_the_cli_says_that_an_until_given_to_the_second_runs_to_the_end_of_that_second(
    env: dict[str, str],
) -> None:
    """A time as listings show it, to the second: the until's moment is the next second."""
    refused = cli(
        env, "messages", "list",
        "--since", "2026-12-02T10:00:00+01:00", "--until", "2026-12-02T08:59:59Z",
    )  # fmt: skip
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert said.endswith(
        "error: --since and --until: the period starts at or after it ends: --until "
        "2026-12-02T08:59:59Z runs to the end of that second (2026-12-02T10:00:00+01:00), "
        "which is not after --since 2026-12-02T10:00:00+01:00 (2026-12-02T10:00:00+01:00); "
        "give a --since earlier than the --until"
    ), said


@pytest.mark.parametrize("command", EVERY_PERIOD, ids=" ".join)
def test_every_command_refuses_a_local_time_that_happens_twice(
    env: dict[str, str], command: tuple[str, ...]
) -> None:
    refused = cli(env, *command, "--until", "2026-10-25T02:30")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "--until: 2026-10-25T02:30 is ambiguous in Europe/Amsterdam" in said, said
    assert "2026-10-25T02:30+02:00 is the first" in said


def test_the_cli_refuses_a_skipped_local_time_and_takes_it_with_an_offset(
    env: dict[str, str],
) -> None:
    refused = cli(env, "messages", "list", "--since", "2026-03-29T02:30")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "--since: 2026-03-29T02:30 does not exist in Europe/Amsterdam" in said, said
    for given in ("2026-03-29T02:30+01:00", "2026-10-25T02:30+02:00", "2026-10-25T00:30Z"):
        taken = cli(env, "messages", "list", "--since", given, "--json")
        assert taken.exit_code == 0, taken.output


# -- the API ------------------------------------------------------------------------------------


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = destination("noord", 2575, providers=["ziekenhuis-noord"])
    engine = Engine(
        settings_for(tmp_path),
        catalog=build_catalog([("noord.yaml", config)], today=date(2026, 11, 27)),
    )
    await engine.start()
    try:
        async with api_client(engine) as client:
            yield client
    finally:
        await engine.stop()


async def every_period_in_the_api(
    api: httpx.AsyncClient, since: str | None, until: str | None
) -> list[httpx.Response]:
    """Each listing, search, export and batch of the API asked for one period."""
    given = {k: v for k, v in (("since", since), ("until", until)) if v is not None}
    return [
        await api.get("/api/v1/messages", params=given),
        await api.post("/api/v1/messages/search", json=given),
        await api.get("/api/v1/messages.csv", params=given),
        await api.get("/api/v1/events", params=given),
        await api.post("/api/v1/events/search", json=given),
        await api.get("/api/v1/audit", params=given),
        await api.post("/api/v1/audit/search", json=given),
        await api.get("/api/v1/rejected", params=given),
        await api.get("/api/v1/deadletters", params=given),
        await api.post("/api/v1/resend", json={"reason": "test", "filter": given, "dry_run": True}),
        await api.post(
            "/api/v1/events/route",
            json={"reason": "test", "provider": "ziekenhuis-noord", "dry_run": True, **given},
        ),
    ]


async def test_the_api_answers_422_naming_both_fields(api: httpx.AsyncClient) -> None:
    for answer in await every_period_in_the_api(api, "2h", "3h"):
        assert answer.status_code == 422, (answer.request.url, answer.text)
        detail = answer.json()["detail"]
        assert detail.startswith("since and until: the period starts at or after it ends")
        assert "give a since earlier than the until" in detail, detail


async def test_the_api_refuses_ambiguous_and_skipped_local_times(api: httpx.AsyncClient) -> None:
    for answer in await every_period_in_the_api(api, "2026-03-29T02:30", "2026-10-25T02:30"):
        assert answer.status_code == 422, (answer.request.url, answer.text)
        detail = answer.json()["detail"]
        # The time is named, though it was sent: the refusal is about it.
        assert detail.startswith("since: 2026-03-29T02:30 does not exist in Europe/Amsterdam")
        assert "e.g. 2026-03-29T02:30+01:00, or a time in UTC, e.g. 2026-03-29T01:30Z" in detail
    for answer in await every_period_in_the_api(api, None, "2026-10-25 02"):
        assert answer.status_code == 422, (answer.request.url, answer.text)
        detail = answer.json()["detail"]
        assert detail.startswith("until: 2026-10-25T02:00 is ambiguous in Europe/Amsterdam")
        assert "(2026-10-25T02:00+02:00 is the first, 2026-10-25T02:00+01:00 the second)" in detail
    with_offsets = ("2026-03-29T02:30+01:00", "2026-10-25T02:30+01:00")
    for answer in await every_period_in_the_api(api, *with_offsets):
        assert answer.is_success, (answer.request.url, answer.text)


# -- a + that a URL turned into a space ---------------------------------------------------------


def test_an_offset_after_a_space_is_the_plus_a_url_turned_into_one() -> None:
    """``?since=2026-12-02T05:00:00+01:00`` sent unencoded arrives as ``... 01:00``: that shape,
    and only that one, is taken as ``+01:00``; a refusal says to write ``+`` as ``%2B``."""
    with_plus = parse_moment("2026-12-02T05:00:00+01:00", AMSTERDAM)
    for spaced in ("2026-12-02T05:00:00 01:00", "2026-12-02 05:00 01:00"):
        assert parse_moment(spaced, AMSTERDAM) == with_plus, spaced
    for other in ("2026-12-02T05:00:00 01", "2026-12-02T05 01:00", "2026-12-02T05:00  01:00"):
        with pytest.raises(BadSearch) as refused:
            parse_moment(other, AMSTERDAM)
        assert "in a URL, write the + as %2B" in refused.value.rule
        assert "in UTC 2026-11-27T08:30:05Z" in refused.value.rule
    # Not an offset: a date and a local time, as before.
    assert parse_moment("2026-12-02 01:00", AMSTERDAM) == datetime(2026, 12, 2, tzinfo=UTC)


async def test_the_api_takes_an_offset_whose_plus_was_not_encoded(api: httpx.AsyncClient) -> None:
    for query in ("since=2026-12-02T05:00:00+01:00", "until=2026-12-02T05:00+01:00"):
        for path in ("messages", "events", "audit", "rejected", "deadletters"):
            answer = await api.get(f"/api/v1/{path}?{query}")  # the + as it is: a space
            assert answer.status_code == 200, (path, query, answer.text)
    refused = await api.get("/api/v1/messages?since=2026-12-02T05:00:00+0100")
    assert refused.status_code == 422
    assert "in a URL, write the + as %2B" in refused.json()["detail"]


def test_the_cli_takes_an_offset_after_a_space(env: dict[str, str]) -> None:
    listed = run_cli("messages", "list", "--since", "2026-12-02T05:00:00 01:00", env=env)
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize(
    "command", [["messages", "list"], ["events", "list"], ["audit", "list"], ["rejected", "list"]]
)
def test_the_cli_refuses_a_bound_without_the_urls_plus(
    env: dict[str, str], command: list[str]
) -> None:
    """The refusal said "in a URL, write the + as %2B", which has nothing to do with an option
    on a command line: that is said where a bound travels in a URL (the API, above), and the
    command line gives the forms without it."""
    refused = run_cli(*command, "--since", "2026-12-02T05:00:00+0100x", env=env)
    assert refused.returncode == 2, refused.stdout
    said = " ".join(refused.stderr.split())
    assert said.startswith("error: --since: not an ISO date or date-time; give a date (2026-11-27)")
    assert "in UTC 2026-11-27T08:30:05Z; without an offset it is local time" in said
    assert "%2B" not in said and "URL" not in said
