"""The turnstiles the AMQP intake's batches commit and publish by: in the order they took their
tickets, whichever finishes its other work first, and never stuck behind one that failed."""

from __future__ import annotations

import asyncio

from integrator.turnstile import Ticket, Turn, Turnstile


async def _through(ticket: Ticket, name: str, passed: list[str], *, after: float = 0) -> None:
    await asyncio.sleep(after)  # the work before the turn: longer for the first ones here
    await ticket.wait()
    passed.append(name)
    ticket.pass_on()


async def test_tickets_pass_in_the_order_taken_whichever_is_ready_first() -> None:
    turnstile, passed = Turnstile(), list[str]()
    first, second, third = turnstile.ticket(), turnstile.ticket(), turnstile.ticket()
    await asyncio.gather(
        _through(third, "third", passed),
        _through(second, "second", passed, after=0.02),
        _through(first, "first", passed, after=0.04),
    )
    assert passed == ["first", "second", "third"]


async def test_a_ticket_passed_on_early_lets_the_next_through_only_after_those_before() -> None:
    turnstile, passed = Turnstile(), list[str]()
    first, failed, last = turnstile.ticket(), turnstile.ticket(), turnstile.ticket()
    failed.pass_on()  # its work failed before its turn: it must not open the way for ``last``
    waiting = asyncio.create_task(_through(last, "last", passed))
    await asyncio.sleep(0.02)
    assert passed == [] and not waiting.done()
    await _through(first, "first", passed)
    await waiting
    assert passed == ["first", "last"]


async def test_a_kept_ticket_waits_in_its_place_and_passes_nothing_on() -> None:
    turnstile, passed = Turnstile(), list[str]()
    first, batch, after = turnstile.ticket(), turnstile.ticket(), turnstile.ticket()
    parts = [batch.kept(), batch.kept()]
    waiting = asyncio.create_task(_through(after, "after", passed))
    first.pass_on()
    for n, part in enumerate(parts):
        await _through(part, f"part {n}", passed)
    await asyncio.sleep(0.02)
    assert passed == ["part 0", "part 1"] and not waiting.done()
    batch.pass_on()
    await waiting
    assert passed == ["part 0", "part 1", "after"]


async def test_a_waiter_cancelled_leaves_the_line_intact() -> None:
    turnstile = Turnstile()
    first, second, third = turnstile.ticket(), turnstile.ticket(), turnstile.ticket()
    stopped = asyncio.create_task(second.wait())
    await asyncio.sleep(0)
    stopped.cancel()
    second.pass_on()  # as a stopping batch does in its ``finally``
    first.pass_on()
    await asyncio.wait_for(third.wait(), 1)


async def test_a_turn_commits_while_the_one_before_publishes_and_publishes_after_it() -> None:
    commits, publishes, steps = Turnstile(), Turnstile(), list[str]()
    first = Turn(commits.ticket(), publishes.ticket())
    second = Turn(commits.ticket(), publishes.ticket())
    await first.commit.wait()
    steps.append("first committed")
    first.commit.pass_on()
    await second.commit.wait()  # the first has not published yet: the second commits all the same
    steps.append("second committed")
    second.commit.pass_on()
    publishing = asyncio.create_task(_through(second.publish, "second published", steps))
    await asyncio.sleep(0.02)
    assert not publishing.done()
    await _through(first.publish, "first published", steps)
    await publishing
    assert steps == ["first committed", "second committed", "first published", "second published"]
