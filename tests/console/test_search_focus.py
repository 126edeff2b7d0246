"""Which element of a search page takes the keyboard's focus (``data-found``, read by
``static/console.js``), request by request against a real engine, page by page: after a
search, its results' heading (described by how many), or, nothing found, what says so; never
on the page opened without a search, nor on a refused search (its refused field has it). In a
browser, at 640 px: ``test_search_focus_browser``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.started import noord_engine
from tests.console.test_saved_searches import signed_in
from tests.store.factories import make_event, make_message

ZD = "ZD000000001"
NOWHERE = "ZD000000099"
RULES = [{"path": "event_id", "rule": "uuid_format", "message": "must be a UUID"}]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """An event of ziekenhuis-noord with a message to ``noord``, a piece of rejected input and
    an audit entry."""
    async with noord_engine(tmp_path) as started:
        message = make_message(destination_id="noord")
        await started.store.accept_event(make_event(zd_number=ZD), [message])
        await started.store.reject_event(b"{}", "http", RULES)
        await started.store.add_audit("local:tester", "test.entry", "target-1")
        yield started


_MARKED = re.compile(r"<(\w+)([^>]*\sdata-found[\s>][^>]*)>?")
_ID = re.compile(r'\sid="([^"]+)"')
_DESCRIBED = re.compile(r'\saria-describedby="([^"]+)"')


def focused(page: str) -> list[str]:
    """The ``data-found`` elements of ``page``: tag and id, and what describes each."""
    marked = []
    for tag, attrs in _MARKED.findall(page):
        named = _ID.search(attrs)
        described = _DESCRIBED.search(attrs)
        marked.append(
            f"{tag} {named[1] if named else '?'}" + (f" <- {described[1]}" if described else "")
        )
    return marked


async def test_each_search_page_focuses_its_results_only_after_a_search(engine: Engine) -> None:
    grants = (Grant(Role.RESEND), Grant(Role.ADMIN))
    async with signed_in(engine, "focus@example.org", *grants) as sam:

        async def found(path: str, **params: str) -> list[str]:
            answer = await sam.get(path, params=params)
            return focused(answer.text)

        assert await found("/messages") == []
        assert await found("/messages", zd_number=ZD) == ["h2 found <- message-total"]
        # Nothing found, what to try read with it (test_messages_none_found).
        assert await found("/messages", zd_number=NOWHERE) == ["p no-messages <- no-messages-hint"]
        assert await found("/messages", zd_number="ZD12") == []  # refused: the field has it
        assert await found("/events") == []
        assert await found("/events", zd_number=ZD) == ["h2 found <- event-total"]
        assert await found("/events", zd_number=NOWHERE) == ["p no-events"]
        assert await found("/events", provider="elders") == ["p no-events"]
        assert await found("/events", zd_number="ZD12") == []
        assert await found("/rejected") == []  # the newest input, listed without a search
        assert await found("/rejected", source="http") == ["h2 found <- rejected-count"]
        assert await found("/rejected", source="amqp") == ["p rejected-empty"]
        assert await found("/rejected", since="later") == []
        assert await found("/audit") == []  # the newest entries, listed without a search
        assert await found("/audit", target="target-1") == ["h2 found <- audit-total"]
        assert await found("/audit", target="nothing-here") == ["p audit-empty"]
        assert await found("/audit", actor="Jan") == []
        assert await found("/audit/summary") == []  # nothing counted until asked
        assert await found("/audit/summary", since="30d") == ["p summary-empty"]
        assert await found("/audit/summary", since="later") == []
        assert await found("/deadletters") == []
        assert await found("/deadletters", destination="noord") == ["p dead-empty"]
