"""A hand-edited destination file that breaks the version rules for two event types is told
both, as ``destinations add`` tells them: the engine's reading of the file kept the first
only, so ``destinations show`` ("lists them all"), ``list --json`` and the log hid the second
until the first was mended."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from destinations.config import load_destination_file
from integrator.catalog import build_catalog
from tests.cli_in_process import run_cli as cli

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "destinations"
TWO_WRONG = {
    "referral: ref-v2 ": "referral: ref-v9 ",  # unknown
    "diagnostic_request: orm-v3 ": "diagnostic_request: orm-lfdv1 ",  # retired
}


def _edited(directory: Path) -> Path:
    path = directory / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    text = path.read_text(encoding="utf-8")
    for good, bad in TWO_WRONG.items():
        assert good in text
        text = text.replace(good, bad)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_catalog_keeps_every_version_problem_of_a_file(tmp_path: Path) -> None:
    path = _edited(tmp_path)
    config = load_destination_file(path)  # the file's own rules pass; the registry's do not
    catalog = build_catalog([(str(path), config)], today=date(2026, 12, 6))
    assert [(e.key, e.code) for e in catalog.errors] == [
        ("messages.referral", "version_unknown"),
        ("messages.diagnostic_request", "version_retired"),
    ]
    assert catalog.destinations == {}


def test_show_and_list_name_both_problems(env: dict[str, str]) -> None:
    directory = Path(env["INTEGRATOR_DESTINATIONS_DIR"])
    added = cli("destinations", "add", str(EXAMPLES / "ziekenhuis-noord.yaml"), env=env)
    assert added.returncode == 0, added.stderr
    path = _edited(directory)

    listed = cli("destinations", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["state"] == "broken"
    assert [(p["file"], p["key"]) for p in row["problems"]] == [
        (str(path), "messages.referral"),
        (str(path), "messages.diagnostic_request"),
    ]

    shown = cli("destinations", "show", "ziekenhuis-noord", env=env)
    assert shown.returncode == 0, shown.stderr
    said = " ".join(shown.stdout.split())  # long lines wrap at the terminal's width
    assert said.count("# refused:") == 2
    assert "messages.referral: unknown message version 'ref-v9'" in said
    assert "'orm-lfdv1' is retired; use its successor 'orm-v3'" in said
