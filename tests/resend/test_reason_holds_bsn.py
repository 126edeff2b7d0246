"""A reason that writes out a patient's BSN is refused by every service that takes one.

A reason goes into the audit trail, which admins and the ``reports`` role read without
holding ``patient_data.read``, is kept for years (five by default) after the payload it is
about was pruned, and was never found by ``audit list --bsn``, which finds a patient by the
keyed hash. Before, ``deadletter discard X --reason "mevr Jansen 999990019 belde"`` put the BSN
there for good. It is refused like a reason over the bound: exit 2 naming the option and the
rule, never the reason, nothing changed or audited. A ZD number, an MSH-10, a phone number or
a ticket number in a reason is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrator.reasons import HOLDS_BSN
from tests.cli_in_process import run_cli as cli
from tests.integrator.test_cli_reasons import COMMANDS, _on_store, _state
from tests.resend.support import Desk

WITH_BSN = (
    "mevrouw Jansen, bsn 999990019, belde",
    "BSN 999 990 019 niet ontvangen",
    "patient 999.990.019",
    "ticket 12 999990019",
)
WITHOUT_BSN = "ZD500000057 / MSH-10 1A24BFEC0463CBB55DC, huisarts 0301234567, ticket 2026120612345"


def said(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if not line.startswith("store: ")]
    return " ".join(" ".join(lines).split())


def test_resend_and_discard_refuse_a_reason_with_a_bsn_and_take_other_numbers(
    desk: Desk, referral_data: dict[str, Any]
) -> None:
    delivered = desk.submit(referral_data, "ZD500000056")
    dead = desk.submit(referral_data, "ZD500000057")
    desk.set_status(delivered, "delivered")
    desk.set_status(dead, "dead")
    audit_before = desk.audit_size()
    for reason in WITH_BSN:
        for args in (
            ("resend", delivered, "--reason", reason),
            ("resend", delivered, "--reason", reason, "--dry-run"),
            ("deadletter", "resend", dead, "--reason", reason),
            ("deadletter", "discard", dead, "--reason", reason),
        ):
            refused = desk.cli(*args)
            assert refused.exit_code == 2, (args, refused.output)
            assert said(refused.stderr) == f"error: --reason: {HOLDS_BSN}"
            assert "990" not in refused.output + refused.stderr
            assert "Jansen" not in refused.output + refused.stderr
    assert desk.resends_of(delivered) == [] and desk.resends_of(dead) == []
    assert desk.message(dead).status == "dead"
    assert desk.audit_size() == audit_before

    assert desk.cli("resend", delivered, "--reason", WITHOUT_BSN).exit_code == 0
    assert desk.cli("deadletter", "discard", dead, "--reason", WITHOUT_BSN).exit_code == 0
    assert len(desk.resends_of(delivered)) == 1
    assert desk.message(dead).status == "cancelled"


@pytest.mark.parametrize("command", COMMANDS, ids=[c.__name__.strip("_") for c in COMMANDS])
def test_every_other_command_with_a_reason_refuses_one_with_a_bsn_changing_nothing(
    env: dict[str, str], command: Callable[[dict[str, str]], tuple[str, ...]]
) -> None:
    _on_store(env, lambda store: store.count_audit())  # made, as `integrator run` makes it
    args = command(env)
    before = _state(env)
    refused = cli(*args, "--reason", WITH_BSN[0], env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert said(refused.stderr) == f"error: --reason: {HOLDS_BSN}"
    assert "990019" not in refused.stdout + refused.stderr
    assert _state(env) == before

    taken = cli(*args, "--reason", WITHOUT_BSN, env=env)
    assert taken.returncode == 0, taken.stderr
