"""``messages list --bsn`` that finds no messages says where the patient's referral went instead,
as ``messages list --zd`` does (``message_reads.elsewhere``): an event of the patient that
arrived for a provider no destination serves (unrouted), input of the patient that intake
refused. The GP who only has the BSN at hand gets "it arrived, unrouted" rather than "it never
came". The BSN is never shown: each line names the command that asks for it unechoed
(``--bsn -``). The count is part of the search by BSN, recorded once (``messages.search``).

The service's visibility rule is asked of identities here too: the server's CLI is trusted with
every cluster, a person held to some is told nothing, whether there is any or none.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.message_reads import Elsewhere, elsewhere
from integrator.patient_views import PATIENT_DATA_VIEW
from integrator.settings import Settings
from integrator.store import MessageFilter, RejectedKeys, Store
from tests.integrator.test_cli_reading import cli, env_for
from tests.integrator.test_rejected_reads import person
from tests.store.factories import make_event, make_message

SEARCH_KEY = "bsn-elsewhere-tests-search-key"
BSN = "999990019"  # the patient with an unrouted event and rejected input
READ_OUT = "999 990 019"
OTHER = "999990020"  # a patient with neither
SENT = "999990032"  # a patient with a message
BSN_HASH = Settings(search_key=SEARCH_KEY).bsn_hash(BSN)
RULES = [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}]
UNROUTED = (
    "no messages for this BSN; 1 event of this patient arrived unrouted (no destination "
    "serves its provider): integrator events list --unrouted --bsn -, then integrator events "
    "route"
)
REJECTED = (
    "no messages for this BSN; 1 rejected input of this patient: integrator rejected list --bsn -"
)


async def _fill(store: Store) -> str:
    """The patient's unrouted event and rejected input; another patient's delivered message."""
    unrouted = make_event(zd_number="ZD610000001", provider_id="ziekenhuis-oost", bsn_hash=BSN_HASH)
    assert await store.accept_event(unrouted, [])
    await store.reject_event(b"{}", "http", RULES, RejectedKeys(bsn_hash=BSN_HASH))
    sent = Settings(search_key=SEARCH_KEY).bsn_hash(SENT)
    assert await store.accept_event(make_event(bsn_hash=sent), [make_message()])
    return unrouted.id


def _stored(tmp_path: Path) -> tuple[dict[str, str], str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def fill() -> str:
        async with await Store.open(url) as store:
            return await _fill(store)

    event_id = asyncio.run(fill())
    env = {**env_for(url, tmp_path), "INTEGRATOR_SEARCH_KEY": SEARCH_KEY, "COLUMNS": "200"}
    return env, event_id


def _said(result_stderr: str) -> str:
    return " ".join(result_stderr.split())


def test_an_empty_search_by_bsn_says_the_patient_s_event_arrived_unrouted(
    tmp_path: Path,
) -> None:
    env, event_id = _stored(tmp_path)
    for as_json in ((), ("--json",)):
        found = cli(env, "messages", "list", "--bsn", "-", *as_json, input=f"{READ_OUT}\n")
        assert found.exit_code == 0, found.output
        said = _said(found.stderr)
        assert UNROUTED in said, said
        assert REJECTED in said, said
        for shown in (found.stdout, found.stderr):
            assert BSN not in shown.replace(" ", "") and READ_OUT not in shown
        if as_json:
            assert json.loads(found.stdout) == []  # stdout stays the listing
    # Nothing said of a patient with nothing elsewhere, nor of one with messages.
    nothing = cli(env, "messages", "list", "--bsn", "-", input=f"{OTHER}\n")
    assert nothing.exit_code == 0, nothing.output
    assert "for this BSN" not in nothing.stderr
    found = cli(env, "messages", "list", "--bsn", "-", "--json", input=f"{SENT}\n")
    assert len(json.loads(found.stdout)) == 1 and "for this BSN" not in found.stderr
    # Where it points finds it, asking for the BSN the same way.
    pointed = cli(env, "events", "list", "--unrouted", "--bsn", "-", "--json", input=f"{BSN}\n")
    assert [e["id"] for e in json.loads(pointed.stdout)] == [event_id], pointed.output


def test_the_search_is_recorded_once_and_never_with_the_bsn(tmp_path: Path) -> None:
    env, _event_id = _stored(tmp_path)
    found = cli(env, "messages", "list", "--bsn", "-", input=f"{BSN}\n")
    assert found.exit_code == 0 and UNROUTED in _said(found.stderr), found.output

    async def views() -> list[dict[str, object]]:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            entries = await store.list_audit(limit=100)
        assert all(BSN not in json.dumps(e.details) for e in entries)
        assert all(BSN not in f"{e.target} {e.reason}" for e in entries)
        return [e.details for e in entries if e.action == PATIENT_DATA_VIEW]

    seen = asyncio.run(views())
    assert len(seen) == 1, seen  # the search's own entry; the count adds none
    assert seen[0]["view"] == "messages.search" and seen[0]["bsn_hash"] == BSN_HASH
    assert seen[0]["found"] == 0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        await _fill(opened)
        yield opened


async def test_only_who_could_look_them_up_by_bsn_is_told(store: Store) -> None:
    by_bsn = MessageFilter(bsn_hash=BSN_HASH)
    everywhere = await elsewhere(store, person(Grant(Role.RESEND)), by_bsn)
    assert everywhere == Elsewhere(rejected=1, unrouted=1, unseen=False)
    # Held to one cluster; reading messages everywhere but patient data in one cluster only
    # (they could not list the patient's unrouted events, nor search rejected input by BSN);
    # reading messages everywhere and no patient data: told nothing, and that they may not see.
    for held in (
        person(Grant(Role.RESEND, "CARD")),
        person(Grant(Role.VIEWER), Grant(Role.RESEND, "CARD")),
        person(Grant(Role.VIEWER)),
    ):
        told = await elsewhere(store, held, by_bsn)
        assert told == Elsewhere(rejected=None, unrouted=0, unseen=True), held
        # The same answer whether there is any or none.
        none_there = MessageFilter(bsn_hash=Settings(search_key=SEARCH_KEY).bsn_hash(OTHER))
        assert await elsewhere(store, held, none_there) == told
    assert await elsewhere(store, person(Grant(Role.RESEND)), MessageFilter()) is None


SENT_HASH = Settings(search_key=SEARCH_KEY).bsn_hash(SENT)
OUTSIDE = (
    "no messages with these terms; 1 message of this patient outside them: "
    "integrator messages list --bsn -"
)


def test_a_search_narrowed_by_other_terms_names_the_patient_s_messages_they_left_out(
    tmp_path: Path,
) -> None:
    """By BSN and a status the patient's one message is not in: the referral did become a
    message, so that is said, not "no messages for this BSN" (which read as its fate)."""
    env, _event_id = _stored(tmp_path)
    found = cli(env, "messages", "list", "--bsn", "-", "--status", "dead", input=f"{SENT}\n")
    assert found.exit_code == 0, found.output
    said = _said(found.stderr)
    assert OUTSIDE in said, said
    assert "for this BSN" not in said, said
    assert SENT not in found.stdout + found.stderr
    # The patient with no messages at all is still told where the referral went, and that
    # "no messages for this BSN" is true whatever else was searched.
    none_sent = cli(env, "messages", "list", "--bsn", "-", "--status", "dead", input=f"{BSN}\n")
    said = _said(none_sent.stderr)
    assert UNROUTED in said and REJECTED in said and "outside them" not in said, said


def test_by_zd_number_the_line_names_the_search_by_it_alone(tmp_path: Path) -> None:
    env, _event_id = _stored(tmp_path)

    async def one_more() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            event = make_event(zd_number="ZD610000002")
            assert await store.accept_event(event, [make_message(), make_message()])
            # An earlier try intake refused: not the referral's fate, as it did become messages.
            await store.reject_event(b"{}", "http", RULES, RejectedKeys(zd_number="ZD610000002"))

    asyncio.run(one_more())
    found = cli(env, "messages", "list", "--zd", "ZD610000002", "--status", "dead")
    assert found.exit_code == 0, found.output
    said = _said(found.stderr)
    assert said.endswith(
        "no messages with these terms; 2 messages with this ZD number outside them: "
        "integrator messages list --zd ZD610000002"
    ), said
    assert "rejected" not in said and "unrouted" not in said, said
    alone = cli(env, "messages", "list", "--zd", "ZD610000002", "--json")
    assert len(json.loads(alone.stdout)) == 2 and "outside" not in alone.stderr


async def test_messages_outside_the_other_terms_are_counted_in_the_asker_s_clusters(
    store: Store,
) -> None:
    resender = person(Grant(Role.RESEND))
    narrowed = MessageFilter(bsn_hash=SENT_HASH, status="dead")
    assert await elsewhere(store, resender, narrowed) == Elsewhere(
        rejected=0, unrouted=0, unseen=False, outside_terms=1
    )
    # A scope without the message's destination: nothing outside the terms in sight.
    elsewhere_only = MessageFilter(
        bsn_hash=SENT_HASH, status="dead", destination_ids=frozenset({"ziekenhuis-zuid"})
    )
    assert (await elsewhere(store, resender, elsewhere_only)).outside_terms == 0  # type: ignore[union-attr]
    # By the BSN alone, or with only the selection's own marks, nothing is outside the terms.
    for alone in (
        MessageFilter(bsn_hash=BSN_HASH),
        MessageFilter(bsn_hash=BSN_HASH, originals_only=True, unresolved_only=True),
    ):
        assert (await elsewhere(store, resender, alone)).outside_terms == 0  # type: ignore[union-attr]


def test_a_search_that_finds_messages_also_says_what_intake_refused_of_the_patient(
    tmp_path: Path,
) -> None:
    """The patient's older referral was delivered, their newest refused at intake (and another
    arrived unrouted): "1 shown" alone told support the referral arrived. Said besides the
    messages listed, never with the BSN."""
    env, _event_id = _stored(tmp_path)

    async def delivered_before() -> None:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            older = make_event(zd_number="ZD610000009", bsn_hash=BSN_HASH)
            assert await store.accept_event(older, [make_message()])

    asyncio.run(delivered_before())
    found = cli(env, "messages", "list", "--bsn", "-", "--json", input=f"{BSN}\n")
    assert found.exit_code == 0, found.output
    assert len(json.loads(found.stdout)) == 1
    said = _said(found.stderr)
    assert (
        "besides the messages listed for this BSN; 1 rejected input of this patient: "
        "integrator rejected list --bsn -"
    ) in said, said
    assert (
        "besides the messages listed for this BSN; 1 event of this patient arrived unrouted" in said
    )
    assert BSN not in found.stderr.replace(" ", "")
    # A patient with messages and nothing elsewhere: nothing more is said.
    sent = cli(env, "messages", "list", "--bsn", "-", input=f"{SENT}\n")
    assert "besides" not in sent.stderr, sent.stderr
