"""The services' refusals, said in the console in the person's language.

The services refuse in English for the CLI and the API, naming the CLI's options; the console
words the same refusals by their code (``integrator.refusal``, ``integrator.console.refusals``).
Request by request against a real engine (no browser): in Dutch, what the person sees is Dutch
and names no ``--option``; and every code a service raises has a sentence in both languages.
"""

from __future__ import annotations

import ast
import html
import re
import string
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from deadletter.resend import _plan
from destinations.config import dump_destination
from integrator.access import Grant, Role
from integrator.access.service import _MAY_NOT
from integrator.clock import ManualClock
from integrator.console.i18n import EN, NL
from integrator.console.refusals import note, say
from integrator.engine import Engine
from integrator.store import MessageRecord, NewMessage
from integrator.store.records import ResendLink
from tests.console.test_saved_searches import post, signed_in
from tests.integrator.support import destination, settings_for

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CLI_OPTION = re.compile(r"(?<![\w-])--[a-z]|\bNAME:|\buse update\b|\bname it\b")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    settings.destinations_dir.mkdir()
    config = destination("lab-west", 2599, providers=["lab-west"])
    (settings.destinations_dir / "lab-west.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    started = Engine(settings, clock=ManualClock(START))
    await started.start()
    yield started
    await started.stop()


def problems(answer: httpx.Response) -> str:
    """The refusals a page shows (its problem and field-error paragraphs), as text."""
    found = re.findall(r'<p class="(?:problem|field-error)"[^>]*>(.*?)</p>', answer.text, re.S)
    assert found, answer.text
    return html.unescape(" ".join(found))


def dutch(shown: str, *phrases: str) -> None:
    for phrase in phrases:
        assert phrase in shown, shown
    assert not CLI_OPTION.search(shown), shown


async def test_search_terms_are_refused_in_dutch(engine: Engine) -> None:
    grants = (Grant(Role.ADMIN), Grant(Role.RESEND), Grant(Role.REPORTS))
    async with signed_in(engine, "sam@example.org", *grants, lang="nl") as sam:
        zd = await sam.get("/messages", params={"zd_number": "ZD12"})
        since = await sam.get("/messages", params={"since": "gisteren"})
        where = await sam.get("/messages", params={"destination": "nosuch"})
        bsn = await post(sam, "/messages/search", {"bsn": "123456789"})
        actor = await sam.get("/audit", params={"actor": "anna@example.nl"})
        audit_where = await sam.get("/audit", params={"destination": "nosuch"})
        csv = await sam.get("/messages.csv", params={"bsn": "123456782"})
    dutch(problems(zd), "zd_number: een ZD-nummer is ZD en 9 cijfers")
    dutch(problems(since), "since: geen ISO-datum", "een tijd terug vanaf nu")
    dutch(problems(where), "geen bestemming heeft dat id", "ingesteld: lab-west")
    dutch(problems(bsn), "bsn: een BSN is 9 cijfers die de elfproef doorstaan")
    dutch(problems(actor), "geef person:<e-mailadres>")
    dutch(problems(audit_where), "geen auditregel", "ingesteld: lab-west")
    # Refused for every page before the page is reached: said on the error page itself.
    dutch(html.unescape(csv.text), "bsn: een BSN gaat mee in een formulier")
    for answer in (zd, since, where, bsn):
        assert "nosuch" not in problems(answer) and "123456789" not in answer.text


async def test_people_tokens_and_reasons_are_refused_in_dutch(engine: Engine) -> None:
    grants = (Grant(Role.ADMIN), Grant(Role.DESTINATIONS))
    async with signed_in(engine, "ada@example.org", *grants, lang="nl") as ada:
        invite = await post(
            ada,
            "/people/invite",
            {"email": "bo@example.org", "role": "viewer", "cluster": "CRAD"},
        )
        first = await post(ada, "/tokens", {"name": "lab-west-monitor", "role": "viewer"})
        again = await post(ada, "/tokens", {"name": "lab-west-monitor", "role": "viewer"})
        pause = await post(ada, "/destinations/lab-west/state", {"enabled": "false", "reason": " "})
        unsaid = await post(ada, "/destinations/lab-west/enabled", {"reason": "x"})
    assert first.status_code == 200, first.text
    dutch(
        problems(invite),
        "cluster: geen bestemming hoort bij cluster CRAD; de clusters die er zijn: CARD",
    )
    dutch(problems(again), "token_name: er bestaat al een token met de naam lab-west-monitor")
    dutch(problems(pause), "reason: een reden is verplicht")
    dutch(problems(unsaid), "enabled: verplicht")


async def test_adding_a_destination_that_exists_says_to_edit_it(engine: Engine) -> None:
    form = {
        "id": "lab-west",
        "name": "Lab West",
        "cluster": "CARD",
        "providers": "lab-west",
        "host": "127.0.0.1",
        "port": "2600",
        "connections": "1",
        "messages.referral": "ref-v2",
        "ack_mode": "original",
        "reason": "test",
    }
    grants = (Grant(Role.ADMIN), Grant(Role.DESTINATIONS))
    async with signed_in(engine, "ada@example.org", *grants, lang="nl") as ada:
        answer = await post(ada, "/destinations-new", form)
    assert answer.status_code == 422
    dutch(problems(answer), "bestemming lab-west bestaat al; open die en kies Wijzigen")


def _original() -> MessageRecord:
    return MessageRecord(
        id="m-original",
        seq=1,
        event_id="e-1",
        destination_id="lab-west",
        version="ref-v2",
        message_type="REF^I12^REF_I12",
        control_id="c-1",
        payload=b"MSH|^~\\&|",
        status="delivered",
        attempt_count=1,
        created_at=START,
        updated_at=START,
        next_attempt_at=None,
        last_error=None,
        warnings=(),
        is_test=False,
        zd_number="ZD100000001",
        event_type="referral",
    )


class _Renderer:
    def is_configured(self, destination_id: str) -> bool:
        return True

    async def remap(self, original: MessageRecord, destination_id: str) -> NewMessage | str:
        raise AssertionError("not asked")


async def test_a_skip_note_of_a_resend_is_said_in_dutch_without_the_cli() -> None:
    live = ResendLink(
        id="m-resend", seq=2, resend_of="m-original", destination_id="lab-west", status="queued"
    )
    result = await _plan(_original(), "original", "lab-west", _Renderer(), live, dry_run=True)
    assert result.note is not None and "name it" in result.note  # the CLI's text is kept
    shown = say("nl", note(result.note))
    dutch(shown, "al herzonden naar lab-west als m-resend (in de wachtrij)", "ZD-nummer")
    assert "name it" not in say("en", note(result.note))


def _raised_codes() -> Iterator[tuple[str, str]]:
    """Each refusal code written in the services and the console: ``.coded("x")``,
    ``Note(text, "x")`` and ``Said(text, "x")``, with the file it is in."""
    for folder in ("integrator", "deadletter", "destinations"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "coded" and node.args:
                    argument = node.args[0]
                elif isinstance(func, ast.Name) and func.id in ("Note", "Said"):
                    if len(node.args) < 2:
                        continue
                    argument = node.args[1]
                else:
                    continue
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    yield argument.value, str(path.relative_to(ROOT))


def test_every_refusal_code_raised_has_a_sentence_in_both_languages() -> None:
    raised = dict(_raised_codes())
    raised |= {code: "integrator/access/service.py" for code in _MAY_NOT.values()}
    assert len(raised) > 40  # the scan finds them
    missing = {c: f for c, f in raised.items() if f"refusal.{c}" not in EN}
    assert not missing, missing


def test_every_refusal_sentence_is_in_both_languages_with_the_same_values() -> None:
    english = {k for k in EN if k.startswith("refusal.")}
    assert english == {k for k in NL if k.startswith("refusal.")}
    fields = string.Formatter()
    for key in english:
        assert {n for _, n, _, _ in fields.parse(EN[key]) if n} == {
            n for _, n, _, _ in fields.parse(NL[key]) if n
        }, key
        assert not CLI_OPTION.search(EN[key] + NL[key]), key


def test_an_unknown_code_falls_back_to_the_services_english() -> None:
    from integrator.refusal import Note

    assert say("nl", Note("some new rule", "no.such.code")) == "some new rule"
    assert say("nl", "plain text") == "plain text"


async def test_setting_up_an_account_is_refused_in_dutch(engine: Engine) -> None:
    """The invitation page: the password rules and a wrong code in the person's language."""
    from integrator.access.totp import code_at
    from integrator.http import create_app
    from tests.console.test_saved_searches import BASE, ORIGIN, csrf
    from tests.http.support import MAKER

    link = await engine.access.invite(MAKER, "nina@example.org", [Grant(Role.VIEWER)])
    assert link.link is not None
    secret = link.link.split("#", 1)[1]
    transport = httpx.ASGITransport(app=create_app(engine))
    cookies = {"integrator-lang": "nl"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies) as nina:
        form = await nina.get("/invitation")
        opened = await nina.post(
            "/invitation/open", data={"csrf": csrf(form.text), "secret": secret}, headers=ORIGIN
        )
        assert opened.status_code == 200, opened.text
        totp_secret = re.search(r'name="totp_secret" value="([A-Z2-7]+)"', opened.text)
        assert totp_secret is not None, opened.text

        def attempt(password: str, code: str) -> dict[str, str]:
            return {
                "csrf": csrf(opened.text),
                "secret": secret,
                "password": password,
                "password_again": password,
                "code": code,
                "email": "nina@example.org",
                "totp_secret": totp_secret.group(1),
            }

        now_code = code_at(totp_secret.group(1), engine.clock.now())
        short = await nina.post(
            "/invitation/accept", data=attempt("kort", now_code), headers=ORIGIN
        )
        dutch(problems(short), "een wachtwoord heeft minstens 12 tekens")
        own = await nina.post(
            "/invitation/accept", data=attempt("nina@example.org", now_code), headers=ORIGIN
        )
        dutch(problems(own), "niet het e-mailadres van het account")
        wrong = await nina.post(
            "/invitation/accept", data=attempt("a long enough passphrase", "000000"), headers=ORIGIN
        )
        dutch(problems(wrong), "niet de code die de authenticator-app nu toont")
