"""An exported audit entry can be checked on its own: its ``hash`` recomputed from the row.

docs/access.md ("Checking an exported entry") says how, for whoever is handed an export (an
auditor, the inspectorate) and has no store to run ``audit verify`` on. These tests hold the
code to that text, so the two cannot drift apart: each row of real exports (the CLI's CSV and
JSON, the API's JSON and CSV) is recomputed

- by the Python the docs print, taken from the docs and run as it stands, and
- by an implementation of the docs' prose written here (its own JSON writing, by the escaping
  rule the docs give), never by the store's hashing function;

and consecutive rows of an export that left nothing out chain (each row's ``prev_hash`` is the
``hash`` of the row below it, the one before it). The entries are varied where the export's
shape differs from what the hash covers: a time in the engine's zone, in summer and winter and
without microseconds; a reason with non-ASCII text, quotes and a backslash; a reason and an
actor the CSV marks with an apostrophe (one starting with an apostrophe itself); details
with a number, a float, non-ASCII, a line break and nesting; a view of patient data with the
BSN's keyed hash; a destination paused through the CLI; exports.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.cli import app
from integrator.csv_cells import csv_cell
from integrator.engine import Engine
from integrator.settings import Settings
from integrator.store import Store
from tests.http.support import api_client, token_for
from tests.integrator.support import destination
from tests.store.factories import StepClock, make_event, make_message

DOCS = Path(__file__).resolve().parents[2] / "docs" / "access.md"
SEARCH_KEY = "recompute-tests-search-key"
BSN = "999999990"
REASON = 'onderhoud — één uur, "Zuid" \\ ‘gepland’'
"""A destination change's reason: non-ASCII, a quote and a backslash, typed on the CLI."""
ZEROS = "0" * 64


# -- the docs ---------------------------------------------------------------------------------


def _section() -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("### Checking an exported entry")
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


def _blocks(section: str) -> list[tuple[str, str]]:
    """The fenced code blocks of ``section``: (language, text)."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", section, flags=re.S | re.M)


def docs_recomputed() -> Callable[[dict[str, str]], str]:
    """The docs' own ``recomputed`` for a CSV row, run as printed."""
    [code] = [body for language, body in _blocks(_section()) if language == "python"]
    namespace: dict[str, Any] = {"__name__": "docs_example"}  # not its command-line part
    exec(compile(code, str(DOCS), "exec"), namespace)  # our own docs' code
    recomputed: Callable[[dict[str, str]], str] = namespace["recomputed"]
    return recomputed


def test_the_docs_worked_example_holds() -> None:
    """The example row, its canonical text and its hash agree with each other, with the
    docs' Python and with the implementation of the prose here."""
    section = _section()
    [(_, row_text), (_, canonical)] = [b for b in _blocks(section) if b[0] == ""]
    prev = re.search(r"with `prev_hash` `([0-9a-f]{64})`", section)
    digest = re.search(r"and `([0-9a-f]{64})` as\s+its hash", section)
    assert prev is not None and digest is not None
    canonical = canonical.rstrip("\n")
    assert hashlib.sha256((prev[1] + canonical).encode()).hexdigest() == digest[1]
    [row] = list(csv.DictReader(io.StringIO(row_text, newline="")))
    row = {**row, "prev_hash": prev[1], "hash": digest[1]}  # the docs shorten these two
    assert docs_recomputed()(row) == digest[1]
    assert _canonical_from_csv(row) == canonical
    assert recompute_csv(row) == digest[1]


# -- the prose of the docs, written out here --------------------------------------------------

_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(text: str) -> str:
    """A JSON string as the docs say: ``"`` and ``\\`` escaped, U+0000-U+001F as their short
    escape or ``\\u00xx`` in lower-case hex, every other character as itself."""
    out = []
    for char in text:
        if char in _SHORT:
            out.append(_SHORT[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _utc(at: str) -> str:
    """The export's time (the engine's zone, its offset, the fraction left out when zero) as
    the hash has it: UTC, six digits of microseconds, ``+00:00``."""
    moment = datetime.fromisoformat(at).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


def _canonical(
    *, seq: int, at: str, actor: str, action: str, target: str, reason: str | None, details: str
) -> str:
    fields = {  # the seven keys, in the docs' (sorted) order
        "action": _string(action),
        "actor": _string(actor),
        "at": _string(_utc(at)),
        "details": _string(details),
        "reason": "null" if reason is None else _string(reason),
        "seq": str(seq),
        "target": _string(target),
    }
    assert list(fields) == sorted(fields)
    return "{" + ",".join(f"{_string(key)}:{value}" for key, value in fields.items()) + "}"


def _digest(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _unmarked(cell: str) -> str:
    """A CSV cell as stored: one that starts with ``'`` had that ``'`` added."""
    return cell[1:] if cell.startswith("'") else cell


def _canonical_from_csv(row: Mapping[str, str]) -> str:
    return _canonical(
        seq=int(row["id"]),
        at=row["at"],
        actor=_unmarked(row["actor"]),
        action=_unmarked(row["action"]),
        target=_unmarked(row["target"]),
        reason=_unmarked(row["reason"]) or None,
        details=row["details"],
    )


def recompute_csv(row: Mapping[str, str]) -> str:
    return _digest(row["prev_hash"], _canonical_from_csv(row))


def recompute_json(entry: Mapping[str, Any]) -> str:
    """From a JSON export: the details object written again compact, in its order, non-ASCII
    as is (the docs' Python for it: ``json.loads`` kept the order)."""
    details = json.dumps(entry["details"], ensure_ascii=False, separators=(",", ":"))
    canonical = _canonical(
        seq=entry["id"],
        at=entry["at"],
        actor=entry["actor"],
        action=entry["action"],
        target=entry["target"],
        reason=entry["reason"],
        details=details,
    )
    return _digest(entry["prev_hash"], canonical)


def assert_chained(rows: Sequence[Mapping[str, Any]]) -> None:
    """An export that left nothing out, newest first: each row links to the row below it,
    and the oldest to the chain's start."""
    for newer, older in itertools.pairwise(rows):
        assert int(newer["id"]) > int(older["id"])
        assert newer["prev_hash"] == older["hash"], (newer["id"], older["id"])
    assert rows[-1]["prev_hash"] == ZEROS


# -- the CLI's exports ------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    dest_dir = tmp_path / "destinations"
    dest_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (dest_dir / "lab-west.yaml").write_text(dump_destination(config), encoding="utf-8")
    return {
        "INTEGRATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "INTEGRATOR_SEARCH_KEY": SEARCH_KEY,
        "INTEGRATOR_DESTINATIONS_DIR": str(dest_dir),
        "INTEGRATOR_TIMEZONE": "Europe/Amsterdam",
        "USER": "piet",
    }


def cli(env: dict[str, str], *args: str, given: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), env=env, input=given)
    assert result.exit_code == 0, result.output
    return result


async def _odd_entries(store: Store) -> None:
    """Entries whose export differs most from what their hash covers."""
    await store.add_audit(
        "=cmd()",  # the CSV marks it: '=cmd()
        "message.resend",
        "m-1",
        reason="'=zie ticket",  # starts with the mark itself: ''=zie ticket
        details={
            "n": 3,
            "ratio": 1.0,
            "note": 'één\nregel\t"x"',
            "nested": {"b": [1, "ü"], "a": None},
        },
    )
    await store.add_audit("system", "datakey.register", "k2026a", reason=None, details={})


def _fill(env: dict[str, str]) -> None:
    url = env["INTEGRATOR_DATABASE_URL"]
    patient = Settings(search_key=SEARCH_KEY).bsn_hash(BSN)

    async def fill() -> None:
        async with await Store.open(url) as store:
            await store.accept_event(make_event(bsn_hash=patient), [make_message()])
        # Whole seconds (no fraction in the export), in winter (+01:00) and summer (+02:00).
        for start in (datetime(2026, 12, 5, 9, 2, 11, tzinfo=UTC), datetime(2027, 7, 1, 22)):
            clock = StepClock(now=start.replace(tzinfo=UTC), step=timedelta(seconds=1))
            async with await Store.open(url, clock=clock) as store:
                await _odd_entries(store)

    asyncio.run(fill())


def test_each_row_of_the_clis_exports_recomputes_and_the_rows_chain(
    env: dict[str, str],
) -> None:
    _fill(env)
    cli(env, "destinations", "pause", "lab-west", "--reason", REASON)
    cli(env, "audit", "list", "--bsn", "-", "--json", given=BSN + "\n")  # a view, by BSN
    cli(env, "messages", "list", "--csv")  # an export
    cli(env, "audit", "list", "--csv")  # and one of the trail
    # An empty reason is none, as the console's forms give it: recorded as "", it read in the
    # CSV as none, and its row did not recompute.
    cli(env, "destinations", "resume", "lab-west", "--reason", "")

    # The listing first: it writes no entry (it is not by BSN), and the export's own entry,
    # written before its first row, is not in the file; so both hold the same entries.
    listed = json.loads(cli(env, "audit", "list", "--json", "--limit", "100000").stdout)
    exported = cli(env, "audit", "list", "--csv", "--limit", "100000").stdout
    rows = list(csv.DictReader(io.StringIO(exported, newline="")))

    actions = {row["action"] for row in rows}
    assert {
        "destination.pause",
        "patient_data.view",
        "messages.export",
        "audit.export",
        "message.resend",
    } <= actions
    [paused] = [row for row in rows if row["action"] == "destination.pause"]
    assert paused["reason"] == REASON
    [view] = [e for e in listed if e["details"].get("view") == "audit.search"]
    assert view["details"]["bsn_hash"] == Settings(search_key=SEARCH_KEY).bsn_hash(BSN)
    marked = [row for row in rows if row["action"] == "message.resend"]
    assert {(row["actor"], row["reason"]) for row in marked} == {("'=cmd()", "''=zie ticket")}
    assert any("+02:00" in row["at"] and "." not in row["at"] for row in marked)
    assert any("+01:00" in row["at"] and "." not in row["at"] for row in marked)

    recomputed = docs_recomputed()
    for row in rows:
        assert recomputed(row) == row["hash"], row["id"]
        assert recompute_csv(row) == row["hash"], row["id"]
    assert_chained(rows)

    # From the JSON listing too each entry recomputes, and its entries chain.
    assert [e["id"] for e in listed] == [int(row["id"]) for row in rows]
    for entry in listed:
        assert recompute_json(entry) == entry["hash"], entry["id"]
    assert_chained(listed)

    # A filtered export leaves entries out: each row still recomputes alone.
    only = cli(env, "audit", "list", "--action", "destination.pause", "--csv").stdout
    [alone] = list(csv.DictReader(io.StringIO(only, newline="")))
    assert recompute_csv(alone) == alone["hash"] == paused["hash"]
    assert alone["prev_hash"] == paused["prev_hash"] != ZEROS


# -- the API's ---------------------------------------------------------------------------------


async def test_each_entry_of_the_apis_answers_recomputes_and_they_chain(engine: Engine) -> None:
    await _odd_entries(engine.store)
    reports = await token_for(engine, Grant(Role.REPORTS), name="reports")
    async with api_client(engine) as api:
        searched = await api.post("/api/v1/audit/search", json={"bsn": BSN})  # a view, by BSN
        assert searched.status_code == 200, searched.text
        listed = await api.get("/api/v1/audit", params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    entries = listed.json()
    assert any(e["details"].get("bsn_hash") for e in entries)
    for entry in entries:
        assert recompute_json(entry) == entry["hash"], entry["id"]
    assert_chained(entries)

    async with api_client(engine, reports) as api:
        answer = await api.get("/api/v1/audit.csv", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text, newline="")))
    assert [int(row["id"]) for row in rows] == [e["id"] for e in entries]
    recomputed = docs_recomputed()
    for row in rows:
        assert recomputed(row) == recompute_csv(row) == row["hash"], row["id"]
    assert_chained(rows)


@pytest.mark.parametrize(
    ("value", "cell"),
    [("'=zie ticket", "''=zie ticket"), ("'plain", "''plain"), ("=1+1", "'=1+1"), ("a'b", "a'b")],
)
def test_a_cell_is_its_value_after_a_leading_apostrophe(value: str, cell: str) -> None:
    """A value starting with the mark gets one more, so dropping the first ``'`` of a cell that
    starts with one gives the value, with no guess (docs/support.md, "CSV exports")."""
    assert csv_cell(value) == cell
    assert _unmarked(cell) == value
