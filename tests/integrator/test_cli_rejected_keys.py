"""``integrator submit`` and ``rejected list|show`` never repeat data sent as a key: a path
names an input's key only when it is one of the schemas' own or a well-known one
(``schemas.keys``), however much it looks like one (``jansen``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_in_process import run_cli as cli

DATA_IN_KEYS = ("van der Berg", "Dorpsstraat 12A", "1961-04-12", "jansen", "de_vries", "jan")


def test_submit_and_the_rejected_listing_withhold_data_sent_as_keys(
    env: dict[str, str], tmp_path: Path, referral_data: dict[str, Any]
) -> None:
    referral_data["patient"]["name"]["van der Berg"] = "Jan"
    referral_data["patient"]["address"]["Dorpsstraat 12A"] = "Zwolle"
    referral_data["patient"]["address"]["1961-04-12"] = "geboren"
    referral_data["patient"]["nickname"] = "Jantje"
    referral_data["jansen"] = "Jan"  # lower-case names: at the top, nested, inside a list
    referral_data["patient"]["name"]["de_vries"] = "Jan"
    referral_data["questions"][0]["jan"] = "Jansen"
    referral_data["patient"]["name"]["famliy"] = "Jansen"  # misspelt: what it resembles
    referral_data["bsn"] = "999990019"  # the schema's key at the wrong place: named
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(referral_data))

    submitted = cli("submit", str(path), env={**env, "COLUMNS": "200"})
    assert submitted.returncode == 2, submitted.stdout + submitted.stderr
    said = submitted.stdout + submitted.stderr
    assert "patient.name.…" in said and "patient.…" in said and "questions[0].…" in said
    assert "patient.name.…: is not a known field; did you mean family?" in said
    assert "bsn: is not a field here; the schema has it at patient.bsn" in said
    as_json = cli("submit", "--json", str(path), env=env)
    [outcome] = json.loads(as_json.stdout)

    listed = cli("rejected", "list", "--json", env=env)
    wide = cli("rejected", "list", env={**env, "COLUMNS": "200"})
    shown = cli("rejected", "show", outcome["rejected_id"], "--json", env=env)
    detail = {k: v for k, v in json.loads(shown.stdout).items() if k != "body"}
    assert {r["path"] for r in detail["reason"]} == {
        "patient.name.…",
        "patient.address.…",
        "patient.…",
        "…",
        "questions[0].…",
        "bsn",
    }
    [row] = [r for r in json.loads(listed.stdout) if r["id"] == outcome["rejected_id"]]
    assert "questions[0].…: unknown_field" in row["problems"]
    for text in (said, as_json.stdout, listed.stdout, wide.stdout, json.dumps(detail)):
        for data in (*DATA_IN_KEYS, "nickname", "famliy"):
            assert data not in text
