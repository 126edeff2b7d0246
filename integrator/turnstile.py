"""Turnstiles: work that took its tickets in some order passes a step in that order.

The AMQP intake works on several batches at once (one validating while others wait for their
commit or their publisher confirms). Their commits and their publishes must still follow the
order the batches were taken from the queue: a cancel in a later batch that commits and
publishes first reaches the hospital before its referral. Each batch takes a ``Turn`` when it is
taken from the queue: a ticket for the commit's turnstile and one for the publish's. Its commit
waits until every batch taken before has committed (or failed), and its publish until they have
written their messages to the broker; it passes the publish ticket on once its own are written,
before their confirms are awaited. The rest overlaps: validating and mapping, one batch's
commit with the batch before's publish, waiting for confirms.

A ticket must always be passed on, whatever became of its work, or every later one waits for
ever. A ticket passed on early (its work failed while those before still work) lets the next
through only once those before it have passed too: the order holds even then.
"""

from __future__ import annotations

import asyncio


class Ticket:
    """A place in line of a ``Turnstile``."""

    def __init__(self, before: asyncio.Future[None] | None, passed: asyncio.Future[None]) -> None:
        self._before = before
        self._passed = passed

    async def wait(self) -> None:
        """Until every ticket taken before this one has passed on."""
        if self._before is not None and not self._before.done():
            # Shielded: a waiter cancelled (a stopping engine) must not cancel the line.
            await asyncio.shield(self._before)

    def pass_on(self) -> None:
        """Let the next ticket through, once every ticket before this one has (idempotent)."""
        if self._passed.done():
            return
        if self._before is None or self._before.done():
            self._passed.set_result(None)
        else:
            self._before.add_done_callback(lambda _: self.pass_on())

    def kept(self) -> Ticket:
        """The same place in line, for work done in several parts: passing it on does nothing.
        Whoever holds this ticket passes it on once the last part is done."""
        return Ticket(self._before, asyncio.get_running_loop().create_future())


class Turnstile:
    def __init__(self) -> None:
        self._last: asyncio.Future[None] | None = None

    def ticket(self) -> Ticket:
        """A place in line behind every ticket taken before."""
        passed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ticket = Ticket(self._last, passed)
        self._last = passed
        return ticket


class Turn:
    """A batch's place in the line of commits and in that of publishes (``Intake.turn``)."""

    def __init__(self, commit: Ticket, publish: Ticket) -> None:
        self.commit = commit
        self.publish = publish

    def kept(self) -> Turn:
        """The same places, for work done in several parts (``Ticket.kept``)."""
        return Turn(self.commit.kept(), self.publish.kept())

    def pass_on(self) -> None:
        """Let the next batch commit and publish, once those before it have (idempotent)."""
        self.commit.pass_on()
        self.publish.pass_on()
