"""A request refused by the state of what it acts on exits 1 in every command (product.md §6).

The API answers such a refusal 409 (messages still waiting, a paused destination, a revision
moved on); the command line answers it with one code, not 2 in one command and 1 in the next,
so a script tells "fix what I typed" (2) from "not now, or force it" (1) the same way
everywhere. The input of each command here is right: the same id, typed wrong, exits 2.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_in_process import run_cli as cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "destinations" / "ziekenhuis-noord.yaml"
REFERRAL = ROOT / "config" / "samples" / "referral.json"

STATE_REFUSALS = {
    "remove": (
        ("destinations", "remove", "ziekenhuis-noord"),
        "still has 1 message waiting; deliver it first",
    ),
    "test": (("destinations", "test", "ziekenhuis-noord"), "is paused"),
    "try-now": (("destinations", "try-now", "ziekenhuis-noord"), "is paused"),
    "expect-revision": (
        ("destinations", "update", "ziekenhuis-noord", "--set", "name=N", "--expect-revision", "1"),
        "changed since revision 1",
    ),
}
"""Each command refused by the destination's state: what is run, and what its refusal says."""


@pytest.fixture
def paused_with_a_message_waiting(env: dict[str, str]) -> dict[str, str]:
    """``ziekenhuis-noord`` at revision 2 (a pause), with one message waiting for it."""
    shutil.copy(EXAMPLE, Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / EXAMPLE.name)
    recorded = cli("destinations", "update", "ziekenhuis-noord", "--set", "name=Noord", env=env)
    assert recorded.returncode == 0, recorded.stderr
    submitted = cli("submit", str(REFERRAL), env=env)
    assert submitted.returncode == 0, submitted.stderr
    paused = cli("destinations", "pause", "ziekenhuis-noord", "--json", env=env)
    assert json.loads(paused.stdout)["revision"] == 2, paused.stderr
    return env


@pytest.mark.parametrize("refusal", sorted(STATE_REFUSALS))
def test_a_refusal_by_the_destinations_state_exits_1_and_a_typo_of_its_id_2(
    paused_with_a_message_waiting: dict[str, str], refusal: str
) -> None:
    env = paused_with_a_message_waiting
    args, said = STATE_REFUSALS[refusal]
    refused = cli(*args, env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert said in " ".join(refused.stderr.split())
    assert (Path(env["INTEGRATOR_DESTINATIONS_DIR"]) / EXAMPLE.name).exists()

    typo = cli(*[a.replace("ziekenhuis-noord", "ziekenhuis-nord") for a in args], env=env)
    assert typo.returncode == 2, typo.stdout + typo.stderr
    assert "no destination with id 'ziekenhuis-nord'" in typo.stderr


def test_a_message_that_waits_for_no_retry_exits_1_and_an_id_no_message_has_2(
    paused_with_a_message_waiting: dict[str, str],
) -> None:
    env = paused_with_a_message_waiting
    [message] = json.loads(cli("messages", "list", "--json", env=env).stdout)
    refused = cli("messages", "try-now", message["id"], env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "the message's status is queued" in " ".join(refused.stderr.split())
    assert cli("messages", "try-now", "ffffffff", env=env).returncode == 2
