"""Values from outside reach the operator's terminal only as visible text (``cli.shown``).

A security review's finding: a resend reason posted over the API as ``GP called`` followed by
escape sequences, a line feed and a carriage return was printed by ``audit list`` as it was,
clearing or recolouring the screen and faking a row of the audit listing; so were a patient's
family name in ``messages show`` and a person's name in ``users list``. The tables and lines
now write each control character out (``\\x1b``, ``\\n``, ``\\r``, ``\\u202e``); ``--json``
keeps the value exact.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from integrator.cli.shown import shown, shown_lines, visible
from integrator.store import Store
from tests.cli_in_process import CliOutcome
from tests.cli_in_process import run_cli as cli
from tests.resend.test_cli_resend import mark, write_destination
from tests.services import free_port

HOSTILE = "GP called\x1b[2J\x1b[31m\nfake row: 99 local:root audit.verify ok\r\u202eevil\t."
"""Clears the screen, turns red, starts a fake row, returns to the line's start, reverses."""
VISIBLE = "GP called\\x1b[2J\\x1b[31m\\nfake row: 99 local:root audit.verify ok\\r\\u202eevil\\t."
RAW = ("\x1b", "\n", "\r", "\t", "\u202e")


def _wide(env: dict[str, str]) -> dict[str, str]:
    return {**env, "COLUMNS": "1000"}


def _only_visible(said: CliOutcome, *, lines_kept: bool = False) -> None:
    """No raw control character in the output but its own line breaks, and the value there
    written out (``lines_kept``: a text shown with its own line breaks follows the rest)."""
    assert said.returncode == 0, said.stdout + said.stderr
    for raw in RAW:
        assert raw not in said.stdout.replace("\n", ""), (raw, said.stdout)
    if lines_kept:
        return
    assert not any(line.startswith("fake row") for line in said.stdout.splitlines())
    # Free text wraps at spaces, its lines beside the other columns' lines.
    assert all(word in said.stdout for word in VISIBLE.split()), said.stdout


def test_visible_writes_out_every_control_character_and_keeps_the_rest() -> None:
    controls = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
    controls += [
        "\u2028",
        "\u2029",
        *map(chr, range(0x202A, 0x202F)),
        *map(chr, range(0x2066, 0x206A)),
    ]
    written = visible("".join(controls))
    assert all(c not in written for c in controls), written
    assert written.startswith("\\x00\\x01") and "\\t\\n\\x0b\\x0c\\r" in written
    assert written.endswith("\\u2066\\u2067\\u2068\\u2069") and "\\x7f\\x80" in written
    kept = "MSH|^~\\&|HIS Berg^Jan é ü 😀 \\F\\ [bold]"
    assert visible(kept) == kept
    assert shown("[bold]x\x1b") == "\\[bold]x\\x1b"
    assert shown_lines("a\nb\x1b\r") == "a\nb\\x1b\\r"


def _submitted(env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]) -> str:
    """A message of a patient whose family name is ``HOSTILE``, dead and resent for the
    reason ``HOSTILE``: the original's id."""
    write_destination(env, free_port())
    data = json.loads(json.dumps(referral_data))
    data["patient"]["name"]["family"] = HOSTILE
    path = tmp_path / "referral.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    submitted = cli("submit", "--json", str(path), env=env)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    message_id: str = json.loads(submitted.stdout)[0]["messages"][0]["message_id"]
    mark(env, message_id, "dead")
    resent = cli("deadletter", "resend", "--all", "--reason", HOSTILE, "--json", env=env)
    assert resent.returncode == 0, resent.stdout + resent.stderr
    return message_id


def test_a_reason_and_a_patients_name_are_shown_visibly(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    message_id = _submitted(env, tmp_path, referral_data)
    listed = cli("audit", "list", "--action", "message.resend", env=_wide(env))
    _only_visible(listed)
    exact = cli("audit", "list", "--action", "message.resend", "--json", env=env)
    assert [e["reason"] for e in json.loads(exact.stdout)] == [HOSTILE]

    # The patient's family name in the HL7 fields (as the mapping wrote it into PID-5), the
    # resend's reason in the resends table under them.
    show = cli("messages", "show", message_id, env=_wide(env))
    _only_visible(show)
    assert "^~\\&" in show.stdout  # HL7's own separators stay as they are
    whole = json.loads(cli("messages", "show", message_id, "--json", env=env).stdout)
    assert [r["reason"] for r in whole["resends"]] == [HOSTILE]


def test_a_persons_name_is_shown_visibly_in_users_list(env: dict[str, str]) -> None:
    invited = cli("users", "invite", "anna@example.nl", "--role", "viewer", env=env)
    assert invited.returncode == 0, invited.stdout + invited.stderr
    db = env["INTEGRATOR_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE people SET name = ?", (HOSTILE,))
    _only_visible(cli("users", "list", env=_wide(env)))
    exact = json.loads(cli("users", "list", "--json", env=env).stdout)
    assert [p["name"] for p in exact] == [HOSTILE]


def test_rejected_input_is_shown_visibly(env: dict[str, str]) -> None:
    async def kept() -> str:
        async with await Store.open(env["INTEGRATOR_DATABASE_URL"]) as store:
            return await store.reject_event(
                HOSTILE.encode(),
                "amqp",
                [{"path": "$", "rule": "json", "message": HOSTILE}],
                caller=HOSTILE,
            )

    rejected_id = asyncio.run(kept())
    _only_visible(cli("rejected", "list", env=_wide(env)))
    # Its body as it arrived keeps its line breaks, below the tables; nothing else does.
    show = cli("rejected", "show", rejected_id, env=_wide(env))
    tables, body = show.stdout.split("Body as it arrived:")
    _only_visible(CliOutcome(show.returncode, tables, show.stderr))
    _only_visible(CliOutcome(show.returncode, body, show.stderr), lines_kept=True)
    assert "GP called\\x1b[2J\\x1b[31m\nfake row" in body
    exact = json.loads(cli("rejected", "list", "--json", env=env).stdout)
    assert [r["caller"] for r in exact] == [HOSTILE]


def test_plain_text_the_cli_prints_has_its_controls_written_out_and_its_lines_kept() -> None:
    """What the CLI prints as plain text (``markup=False``: a destination's diff, a refused
    file's problem, a receiver's words beside the CLI's own) reached the terminal with its
    escape sequences; line breaks are the text's own and stay."""
    import io

    from integrator.cli.shown import PlainSafeConsole

    out = io.StringIO()
    plain = PlainSafeConsole(file=out, highlight=False, emoji=False, width=200)
    plain.print("name: Noord\x1b[2J\r\n+ name: Zuid\u202e", markup=False)
    plain.print("[bold]own words[/]")  # the CLI's own markup is not plain text: styled
    written = out.getvalue()
    assert "\x1b" not in written and "\r" not in written and "\u202e" not in written
    assert written.splitlines()[:2] == ["name: Noord\\x1b[2J\\r", "+ name: Zuid\\u202e"]
    assert written.splitlines()[2] == "own words"
