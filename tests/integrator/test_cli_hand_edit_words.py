"""A hand edit of a destination's file, as the CLI says it: the store keeps it as action
``file`` by actor ``file``, and ``destinations history`` printed "revision 2: file by file at
…", which an operator could not read."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli_in_process import run_cli as cli
from tests.services import free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "destinations"


def test_history_and_a_stale_change_say_a_hand_edit_plainly(env: dict[str, str]) -> None:
    path = Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / "ziekenhuis-noord.yaml"
    shutil.copy(EXAMPLES / path.name, path)
    port = free_port()
    first = cli("destinations", "update", path.stem, "--set", f"port={port}", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    text = path.read_text()
    path.write_text(text.replace(f"port: {port}", f"port: {port + 1}", 1))

    # A change records the hand edit first (revision 2); this one then changes nothing more.
    same = cli("destinations", "update", path.stem, "--set", f"port={port + 1}", env=env)
    assert same.returncode == 0 and "no change" in same.stdout, same.stdout + same.stderr
    stale = cli(
        "destinations", "update", path.stem, "--set", "name=N", "--expect-revision", "1", env=env
    )
    assert stale.returncode == 1, stale.stdout + stale.stderr
    said = " ".join(stale.stderr.split())
    assert "changed since revision 1: revision 2 is the file edited by hand, found at " in said
    assert "file by file" not in said

    history = cli("destinations", "history", path.stem, env=env)
    assert history.returncode == 0, history.stdout + history.stderr
    lines = [line for line in history.stdout.splitlines() if line.startswith("revision ")]
    assert lines[0].startswith("revision 1: update by local:")
    assert lines[1].startswith("revision 2: the file edited by hand, found at 20")
    assert "file by file" not in history.stdout
