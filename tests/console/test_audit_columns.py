"""The audit page shows who, when, from where, what and why each in a column, in the person's
language, and an entry's details as ``key: value`` (``console.audit_text``).

"From where" was only in Details, as ``source=…``, and Details were Python's text of the JSON
(``grants=['viewer@CARD']``, ``source=None``, ``forced=True``): brackets, quotes and words that
are neither Dutch nor English, which an admin cannot scan. The API, ``--json`` and the CSV keep
the details as recorded (``integrator.audit.audit_csv``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from integrator.access import Grant, Role
from integrator.engine import Engine
from tests.console.test_audit_destination import engine
from tests.console.test_saved_searches import signed_in

__all__ = ["engine"]  # the fixture: a started engine with a trail

TARGET = "nina@example.org"
DETAILS = {
    "grants": ["viewer@CARD", "resend@LAB"],
    "bsn_hash": None,
    "forced": True,
    "kept": False,
    "found": 3,
    "terms": {"actor": None, "action": "message.resend", "clusters": ["CARD"]},
    "changes": {"retry": {"from": 3, "to": 5}},
    "note": "<b>not markup</b>",
    "source": "203.0.113.7",
}


class _Table(HTMLParser):
    """The audit table's headers and rows as text, a detail list as ``key: value`` lines."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("th", "td"):
            self._cell = []
        elif self._cell is not None and tag == "dt" and self._cell:
            self._cell.append("\n")
        elif self._cell is not None and tag == "dd":
            self._cell.append(": ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag in ("th", "td") and self._cell is not None:
            text = "".join(self._cell).strip()
            (self.headers if tag == "th" else self.rows[-1]).append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _entries(page: str) -> list[dict[str, str]]:
    table = _Table()
    table.feed(page)
    return [dict(zip(table.headers, row, strict=True)) for row in table.rows if row]


async def _trail(engine: Engine) -> None:
    store = engine.store
    await store.add_audit(
        "person:anna@example.nl", "person.grants", TARGET, reason="new role", details=DETAILS
    )
    await store.add_audit("local:beheer", "person.grants", TARGET, details={"source": None})
    await store.add_audit("token:lab-desk", "person.grants", TARGET, details={})
    await store.add_audit("system", "datakey.register", TARGET, details={"key": "k1"})


async def _page(engine: Engine, lang: str) -> tuple[str, list[dict[str, str]]]:
    await _trail(engine)
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang=lang) as ada:
        answer = await ada.get("/audit", params={"target": TARGET})
    assert answer.status_code == 200, answer.text
    return answer.text, _entries(answer.text)


@pytest.mark.parametrize(
    ("lang", "columns", "words"),
    [
        (
            "en",
            ("When", "Who", "From where", "Action", "Target", "Reason", "Details"),
            (
                "yes",
                "no",
                "command line (on the server)",
                "API token lab-desk",
                "the engine itself",
            ),
        ),
        (
            "nl",
            ("Wanneer", "Wie", "Waarvandaan", "Handeling", "Onderwerp", "Reden", "Details"),
            ("ja", "nee", "opdrachtregel (op de server)", "API-token lab-desk", "de engine zelf"),
        ),
    ],
)
async def test_each_entry_shows_from_where_and_readable_details(
    engine: Engine, lang: str, columns: tuple[str, ...], words: tuple[str, ...]
) -> None:
    text, entries = await _page(engine, lang)
    yes, no, command_line, token, itself = words
    when, who, origin, action, target, reason, details = columns
    by_engine, by_token, by_cli, by_person = entries  # newest first
    assert tuple(by_person) == columns
    assert by_person[who] == "person:anna@example.nl" and by_person[origin] == "203.0.113.7"
    assert by_person[action] == "person.grants" and by_person[target] == TARGET
    assert by_person[reason] == "new role" and by_person[when]
    assert by_person[details].splitlines() == [
        "grants: viewer@CARD, resend@LAB",
        "bsn_hash: —",
        f"forced: {yes}",
        f"kept: {no}",
        "found: 3",
        "terms: actor: —, action: message.resend, clusters: CARD",
        "changes: retry: (from: 3, to: 5)",
        "note: <b>not markup</b>",
    ]
    assert by_cli[origin] == command_line and by_cli[details] == ""
    assert by_token[origin] == token and by_token[details] == ""
    assert by_engine[origin] == itself and by_engine[details] == "key: k1"
    # No Python text, and the source no longer among the details.
    for shown in ("None", "True", "False", "['", "source=", "source:", "{'"):
        assert shown not in text.split("<tbody>", 1)[1], shown
    # Escaped: a detail never becomes markup.
    assert "<b>not markup</b>" not in text and "&lt;b&gt;not markup&lt;/b&gt;" in text


async def test_times_in_details_are_shown_in_the_consoles_time_zone(engine: Engine) -> None:
    """A time a detail records (``expires_at``, ``until``) is ISO 8601 in UTC; the page shows
    it as it shows the entry's own time, in the engine's zone (Europe/Amsterdam here, winter
    and summer), where it read an hour or two off. A text that only starts with one stays."""
    details = {
        "expires_at": "2026-12-01T08:00:00+00:00",
        "token": {"until": "2026-07-01T10:30:15.250000+00:00"},
        "note": "2026-12-01T08:00:00+00:00 and more",
    }
    await engine.store.add_audit("person:anna@example.nl", "token.create", TARGET, details=details)
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN)) as ada:
        answer = await ada.get("/audit", params={"target": TARGET})
    assert answer.status_code == 200, answer.text
    [entry] = _entries(answer.text)
    assert entry["Details"].splitlines() == [
        "expires_at: 2026-12-01 09:00:00+01:00",
        "token: until: 2026-07-01 12:30:15+02:00",
        "note: 2026-12-01T08:00:00+00:00 and more",
    ]
    # The entry's own time, shown the same way.
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0[12]:00", entry["When"]), entry
