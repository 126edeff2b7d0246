"""``Store.last_attempts``: every listed destination's last delivery attempt in one statement,
the same attempt ``integrator.last_attempt.last_attempt`` reads for one destination in two
(on both backends), for the listings of ``destinations list``, ``GET /api/v1/destinations``
and the console's destinations page."""

from __future__ import annotations

from datetime import timedelta

from integrator.store import AttemptRecord, Store
from tests.store.factories import T0, make_event, make_message
from tests.store.helpers import answered_attempts, statements_sent

PATIENT = "Patient J. van der Berg"


async def attempted(
    store: Store, destination_id: str, status: str, *tries: tuple[str, str | None]
) -> str:
    """A message of ``destination_id`` left in ``status`` after ``tries`` (outcome, error)."""
    message = make_message(destination_id=destination_id)
    await store.accept_event(make_event(), [message])
    for number, (outcome, error) in enumerate(tries, start=1):
        attempt = AttemptRecord(
            message.id, number, T0 + timedelta(seconds=number), 2.0, outcome, error=error
        )
        await store.record_attempt(attempt, status=status, last_error=error)
    if not tries:
        await store.set_status(message.id, status)
    return message.id


async def test_each_destination_its_newest_answered_messages_last_attempt(store: Store) -> None:
    assert await store.last_attempts([]) == {}
    assert await store.last_attempts(["noord"]) == {}

    await attempted(store, "noord", "delivered", ("delivered", None))
    refused = "ConnectFailed: connect to 10.0.0.1:2575 failed: ConnectionRefusedError: refused"
    nacked = f"ACK AE: {PATIENT}"
    await attempted(store, "noord", "retrying", ("failed", refused), ("retry", nacked))
    await attempted(store, "noord", "queued")  # newer, but not asked for yet
    await attempted(store, "noord", "held")
    await attempted(store, "zuid", "dead", ("failed", refused))
    await attempted(store, "oost", "delivered")  # answered without an attempt: none said
    await attempted(store, "west", "queued")

    ids = ["noord", "zuid", "oost", "west", "nowhere"]
    found = await store.last_attempts(ids)
    assert set(found) == {"noord", "zuid"}
    noord, zuid = found["noord"].last, found["zuid"].last
    assert noord is not None and zuid is not None
    assert (noord.number, noord.error) == (2, nacked)
    assert (zuid.outcome, zuid.error) == ("failed", refused)
    for destination_id in ids:  # the same attempt the one-destination read finds
        one = await answered_attempts(store, destination_id)
        expected = one[-1] if one else None
        got = found[destination_id].last if destination_id in found else None
        assert (got and (got.message_id, got.number, got.error)) == (
            expected and (expected.message_id, expected.number, expected.error)
        ), destination_id
        assert got is None or got.ack_bytes is None
    # noord's only retrying message is the one last tried.
    assert found["noord"].retrying == 1
    oldest = found["noord"].oldest_retrying
    assert oldest is not None and oldest[0] == noord.message_id
    assert found["zuid"].retrying == 0 and found["zuid"].oldest_retrying is None


async def test_a_discarded_dead_letters_attempt_is_still_the_last(store: Store) -> None:
    """Support discarding a destination's dead letters (``cancelled``) left it "never tried",
    or an older message's attempt as its last, while its receiver answered AR to everything.
    A message cancelled before it was tried is passed over, as one made dead so."""
    await attempted(store, "zuid", "delivered", ("delivered", None))
    await attempted(store, "zuid", "cancelled", ("deadletter", "ACK AR"))
    await attempted(store, "zuid", "cancelled")  # never tried: asked nothing
    await attempted(store, "noord", "cancelled", ("deadletter", "ACK AR"))

    found = await store.last_attempts(["zuid", "noord"])
    zuid, noord = found["zuid"].last, found["noord"].last
    assert zuid is not None and (zuid.outcome, zuid.error) == ("deadletter", "ACK AR")
    assert noord is not None and noord.outcome == "deadletter"
    for destination_id in ("zuid", "noord"):  # the same attempt the one-destination read finds
        [expected] = await answered_attempts(store, destination_id)
        got = found[destination_id].last
        assert got is not None and got.message_id == expected.message_id


async def test_a_message_tried_then_held_or_queued_again_has_the_last_attempt(
    store: Store,
) -> None:
    """A message that kept failing and was then held (its version reached its sunset) had
    the destination's newest attempts, and an older dead letter's were said instead (found by
    an operator audit). One held or queued without an attempt is passed over, as ever."""
    refused = "ConnectFailed: connect to 10.0.0.1:2575 failed: ConnectionRefusedError: refused"
    await attempted(store, "lab", "dead", ("failed", "older"))
    held = await attempted(store, "lab", "held", ("failed", refused), ("failed", refused))
    await attempted(store, "lab", "held")  # held before it was tried: asked nothing
    await attempted(store, "zuid", "dead", ("failed", "older"))
    again = await attempted(store, "zuid", "queued", ("failed", refused))

    found = await store.last_attempts(["lab", "zuid"])
    lab, zuid = found["lab"].last, found["zuid"].last
    assert lab is not None and (lab.message_id, lab.number) == (held, 2)
    assert zuid is not None and zuid.message_id == again
    for destination_id in ("lab", "zuid"):  # the same attempt the one-destination read finds
        expected = (await answered_attempts(store, destination_id))[-1]
        got = found[destination_id].last
        assert got is not None and got.message_id == expected.message_id


async def test_the_oldest_retrying_message_beside_a_newer_delivered_one(store: Store) -> None:
    """With ``ordering: rotate`` a later message is delivered past one that keeps failing:
    the oldest retrying message, when it was made and its own last attempt are read too."""
    refused = "ConnectFailed: connect to 10.0.0.1:2575 failed: ConnectionRefusedError: refused"
    stuck = await attempted(store, "noord", "retrying", ("failed", refused), ("retry", "ACK AE"))
    await attempted(store, "noord", "retrying", ("failed", refused))
    passed = await attempted(store, "noord", "delivered", ("delivered", None))
    await attempted(store, "noord", "queued")
    [found] = (await store.last_attempts(["noord"])).values()
    assert found.last is not None and found.last.message_id == passed
    assert found.retrying == 2
    assert found.oldest_retrying is not None
    message_id, made, attempt = found.oldest_retrying
    [stuck_message] = await store.get_messages([stuck])
    assert (message_id, made) == (stuck, stuck_message.created_at)
    assert attempt is not None and (attempt.number, attempt.error) == (2, "ACK AE")


async def test_messages_made_dead_without_an_attempt_hide_no_earlier_attempt(
    store: Store,
) -> None:
    """``destinations remove --force`` makes every waiting message dead without an attempt;
    after a rollback the newest of them was "the last attempt", which it has none of, and
    ``destinations show`` said ``last attempt: -``. The last attempt there was is said."""
    refused = "ConnectFailed: connect to 10.0.0.1:2575 failed: ConnectionRefusedError: refused"
    tried = await attempted(store, "noord", "dead", ("retry", refused), ("failed", refused))
    for _ in range(3):
        await attempted(store, "noord", "dead")  # waiting, dead-lettered by the removal
    found = (await store.last_attempts(["noord"]))["noord"]
    assert found.last is not None
    assert (found.last.message_id, found.last.number, found.last.error) == (tried, 2, refused)
    [*_, plain] = await answered_attempts(store, "noord")  # the plain read agrees
    assert (plain.message_id, plain.number) == (tried, 2)
    assert "zuid" not in await store.last_attempts(["zuid"])
    await attempted(store, "zuid", "dead")  # never tried at all: no attempt to say
    assert "zuid" not in await store.last_attempts(["zuid"])


async def test_many_destinations_are_one_statement(store: Store) -> None:
    """600 destinations, more than a SQLite ``UNION`` may join: one statement all the same."""
    ids = [f"d{n:03}" for n in range(600)]
    for destination_id in ids[:3]:
        await attempted(store, destination_id, "delivered", ("delivered", None))
    with statements_sent(store) as statements:
        found = await store.last_attempts(ids)
    assert set(found) == set(ids[:3])
    assert len(statements) == 1, statements
