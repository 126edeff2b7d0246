"""The input a refusal names is named in the page's language (``refusals.field_name``).

The admin forms say every mistake at once (``AccessRefusals``), each after the name of its
input; on a Dutch page that name is the form's Dutch word (``reden``, ``e-mailadres``), while
an English page, the API and the CLI keep the service's (``reason``, ``email``, ``--reason``).
A destination's file keys (``name``, ``port``) stay as written: ``test_refusals.py``.
"""

from __future__ import annotations

from integrator.access import Grant, Role
from integrator.access.errors import CLI_NAMES, AccessRefusals, BadAccessInput
from integrator.console.i18n_refusals import FIELDS_NL
from integrator.console.refusals import Said, said, say
from integrator.engine import Engine
from tests.console.test_refusals import dutch, engine, problems
from tests.console.test_saved_searches import post, signed_in
from tests.http.support import MAKER

__all__ = ["engine"]  # the fixture: a started engine with destination lab-west (cluster CARD)


async def test_several_refusals_at_once_name_their_inputs_in_dutch(engine: Engine) -> None:
    bo = await engine.access.invite(MAKER, "bo@example.org", [Grant(Role.VIEWER)])
    wrong = {"role": "viewer", "cluster": " CARD", "reason": " "}  # a padded cluster, no reason
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang="nl") as ada:
        nl = await post(ada, f"/people/{bo.person_id}/grants", wrong)
    async with signed_in(engine, "adam@example.org", Grant(Role.ADMIN)) as adam:
        en = await post(adam, f"/people/{bo.person_id}/grants", wrong)
    assert nl.status_code == en.status_code == 422, nl.text
    shown = problems(nl)
    dutch(shown, "reden: een reden is verplicht", "cluster: ")
    assert "reason:" not in shown, shown
    assert "reason: a reason is required" in problems(en)
    assert "cluster: " in problems(en)


def test_the_api_and_cli_keep_the_english_names() -> None:
    """The service's text (the CLI's) and an English page are as they were."""
    refused = AccessRefusals(
        [
            BadAccessInput("not an e-mail address", field="email"),
            BadAccessInput("a reason is required", field="reason"),
        ]
    )
    assert str(refused) == "EMAIL: not an e-mail address; --reason: a reason is required"
    one = said(refused.problems[1])
    assert say("en", one) == "reason: a reason is required"
    assert say("nl", Said("at most 200 characters", field="name")) == (
        "naam: at most 200 characters"  # no sentence for no code: the rule stays English
    )
    assert say("nl", Said("kept as written", field="name", key=True)) == "name: kept as written"


def test_every_input_an_access_refusal_names_has_a_dutch_name() -> None:
    inputs = {f"refusal.field.{name}" for name in (*CLI_NAMES, "password", "code", "person_id")}
    assert inputs <= FIELDS_NL.keys(), inputs - FIELDS_NL.keys()
