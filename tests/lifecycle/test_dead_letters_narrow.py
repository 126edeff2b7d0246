"""``deadletter list --all`` on an 80-column terminal: a dead letter whose time of death the
store does not know said so in a 34-column cell (``not kept; last attempt 05-20 06:47``), so
the ``died`` column gave way for every row and the state wrapped in the middle of its time.
The cell is short now (``≥05-20 06:47``: it died at its last attempt or later; ``unknown``
without one), explained by a legend under the table and in ``--help``; ``--json`` is as it
was, and ``deadletter show`` still says it in full.

The letters are those of ``test_dead_letters_listed``: discarded by a revision whose discards
did not record when they died, one after an attempt, one never attempted. The listing runs as
a process with ``COLUMNS=80`` (``test_cli_narrow_listings``).
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest

from integrator.cli.deadletter import NOT_KEPT_LEGEND
from integrator.presenters import compact_time, shown_time
from integrator.settings import Settings
from integrator.store import Store
from tests.cli_in_process import run_cli
from tests.integrator.test_cli_narrow_listings import at_80_columns
from tests.lifecycle.test_dead_letters_listed import (
    _dead_after_an_ar,
    _discarded_before_the_upgrade,
    cli_json,
    env,
)

__all__ = ["env"]  # the fixture of ``test_dead_letters_listed``: a store and a destination


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _column(table: str, header: str, message_id: str) -> str:
    """What the table's column ``header`` (the last) shows on the row of ``message_id``, its
    lines joined without spaces."""
    lines = table.splitlines()
    [head] = [line for line in lines if line.startswith("id ")]
    start = head.index(header)
    [first] = [i for i, line in enumerate(lines) if line[:8] == message_id[:8]]
    shown = [lines[first][start:].strip()]
    for line in lines[first + 1 :]:
        if line[:8].strip() or not line[start:].strip():
            break
        shown.append(line[start:].strip())
    return "".join(shown).replace(" ", "")


def test_a_death_not_kept_is_a_short_cell_the_legend_explains(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tried, untried = asyncio.run(
        _discarded_before_the_upgrade(env["INTEGRATOR_DATABASE_URL"], monkeypatch)
    )
    before = cli_json(env, "deadletter", "list", "--all")
    attempted_at = {r["id"]: r for r in before}[tried]["last_attempt_at"]
    zone = Settings().zone  # the default, as ``env`` sets none

    text = at_80_columns(env, "deadletter", "list", "--all")
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "died" in text.split(), text  # the column is shown, not pushed out
    rows = {
        line.split()[0]: line for line in text.splitlines() if line[:8] in (tried[:8], untried[:8])
    }
    [tried_line] = [line for short, line in rows.items() if tried.startswith(short)]
    [untried_line] = [line for short, line in rows.items() if untried.startswith(short)]
    # On its row's first line, whole: the last attempt, to the minute, marked.
    when = compact_time(attempted_at, zone, datetime.now(UTC))
    assert f" ≥{when} " in f"{tried_line} ", text
    assert " unknown " in f"{untried_line} ", text
    assert "not kept; " not in text
    # The state, last, wraps whole: with the died column the table fills the 80 columns, and
    # rich cut a character off each of its lines (``local:anna a`` for ``local:anna at``).
    for row in before:
        said = f"discarded by local:anna at {shown_time(row['discarded_at'], zone)}"
        assert _column(text, "state", row["id"]) == said.replace(" ", ""), text
    assert _flat(NOT_KEPT_LEGEND) in _flat(text), text
    assert "TIME is its last attempt, so it died then or later" in NOT_KEPT_LEGEND

    # --json as it was: dead_since null beside last_attempt_at.
    assert cli_json(env, "deadletter", "list", "--all") == before
    assert all(r["dead_since"] is None for r in before)
    # --help says what the cells mean.
    helped = run_cli("deadletter", "list", "--help", env={**env, "COLUMNS": "200"})
    assert "≥TIME, TIME being its last attempt" in _flat(helped.stdout), helped.stdout


def test_the_legend_is_only_under_a_listing_that_needs_it(env: dict[str, str]) -> None:
    """A dead letter whose time of death is kept: its time, and no legend."""

    async def write() -> str:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await _dead_after_an_ar(store, datetime.now(UTC))

    died = asyncio.run(write())
    text = at_80_columns(env, "deadletter", "list", "--all")
    assert died[:8] in text, text
    assert "≥" not in text and "unknown" not in text and "TIME" not in text, text
