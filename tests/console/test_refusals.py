"""The services' refusals, said in the console in the person's language.

The services refuse in English for the CLI and the API, naming the CLI's options; the console
words the same refusals by their code (``integrator.refusal``, ``integrator.console.refusals``).
Request by request against a real engine (no browser): in Dutch, what the person sees is Dutch
and names no ``--option``; and every code a service raises has a sentence in both languages.
"""

from __future__ import annotations

import ast
import html
import json
import re
import socket
import string
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from deadletter.resend import _plan
from destinations.config import DestinationFileError, destination_from_mapping, dump_destination
from integrator.access import Grant, Role
from integrator.access.mail import MailFailed
from integrator.access.service import _MAY_NOT
from integrator.clock import ManualClock
from integrator.console.i18n import EN, NL
from integrator.console.refusals import note, said, say
from integrator.engine import Engine
from integrator.store import MessageRecord, NewMessage
from integrator.store.records import EventFilter, ResendLink
from tests.conftest import load_sample
from tests.console import answered
from tests.console.test_saved_searches import person_id, post, signed_in
from tests.http.support import MAKER
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


def beside(answer: httpx.Response, field: str) -> str:
    """The refusals shown beside one field of a form (``<field>-error``), as text."""
    found = re.findall(
        rf'<p class="field-error" id="{field}-error"[^>]*>(.*?)</p>', answer.text, re.S
    )
    assert found, answer.text
    return html.unescape(" ".join(found))


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
    # Beside its field, so without the field's (English) code, as the other search pages.
    dutch(beside(zd, "zd_number"), "een ZD-nummer is ZD en 9 cijfers")
    dutch(beside(since, "since"), "geen geldige datum", "een periode tot nu")
    dutch(beside(where, "destination"), "geen bestemming heeft dat id", "ingesteld: lab-west")
    dutch(beside(bsn, "bsn"), "een BSN is 9 cijfers die de elfproef doorstaan")
    for answer in (zd, since, where, bsn):
        assert not re.search(r"\b(zd_number|since|destination|bsn): ", problems(answer))
    dutch(problems(actor), "geef person:<e-mailadres>")
    dutch(problems(audit_where), "geen auditregel", "ingesteld: lab-west")
    # Refused for every page before the page is reached: said on the error page itself.
    dutch(html.unescape(csv.text), "bsn: een BSN hoort in het zoekformulier")
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
    # Beside the field of the form it is about, named by its label, not the service's input.
    assert (invite.status_code, again.status_code) == (422, 422)
    dutch(
        beside(invite, "grants"),
        "geen bestemming hoort bij cluster CRAD; de clusters die er zijn: CARD",
    )
    dutch(
        beside(again, "name"),
        "er bestaat al een token met deze naam (een ingetrokken token behoudt zijn naam)",
    )
    assert "lab-west-monitor" not in beside(again, "name")  # no error echoes the name sent
    assert "cluster:" not in problems(invite) and "token_name" not in problems(again)
    # Beside the reason of the pause form, shown again (its label names the field).
    assert pause.status_code == 422
    dutch(beside(pause, "state-reason"), "een reden is verplicht")
    dutch(problems(unsaid), "enabled: verplicht")


async def test_sending_an_accepted_invitation_again_is_refused_without_the_address(
    engine: Engine,
) -> None:
    """The person's page, opened while they were invited; they accept before the admin sends
    it again: refused in the admin's language, saying the person's state and the rule, and
    no error echoes the address (``refusal.access.not_invited``)."""
    from tests.http.test_people import accept

    link = await engine.access.invite(MAKER, "bo@example.org", [Grant(Role.VIEWER)])
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang="nl") as ada:
        bo = await person_id(engine, "bo@example.org")
        form = re.search(r'name="once" value="([^"]+)"', (await ada.get(f"/people/{bo}")).text)
        assert form is not None
        assert link.link is not None
        await accept(engine, link.link)
        answer = await post(ada, f"/people/{bo}/reinvite", {"once": form.group(1)})
    assert answer.status_code == 422, answer.text
    shown = problems(answer)
    dutch(shown, "deze persoon is actief, niet uitgenodigd", "geaccepteerd, kan die opnieuw")
    assert "bo@example.org" not in shown


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "nl",
            (
                "deze persoon is uitgenodigd en heeft nog geen tweede factor",
                "deze persoon heeft geen actieve rol admin@*",
                "dit account is al gedeactiveerd",
                "deze persoon is gedeactiveerd: alleen een actief account",
            ),
        ),
        (
            "en",
            (
                "this person is invited and has no second factor yet",
                "this person holds no active role admin@*",
                "this account is deactivated already",
                "this account is deactivated: only an active account",
            ),
        ),
    ],
)
async def test_refusals_about_a_person_are_said_without_their_address(
    engine: Engine, lang: str, said: tuple[str, str, str, str]
) -> None:
    """A second factor reset while invited, a role taken away that is not held, a deactivated
    account deactivated or reset: each says the person's state and the rule, in the admin's
    language, and no error echoes the address (the admin named the person)."""
    await engine.access.invite(MAKER, "bo@example.org", [Grant(Role.VIEWER)])
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang=lang) as ada:
        bo = await person_id(engine, "bo@example.org")
        invited = await post(ada, f"/people/{bo}/second-factor/reset", {"reason": "phone"})
        not_held = await post(
            ada, f"/people/{bo}/deactivate-role", {"role": "admin", "cluster": "", "reason": "x"}
        )
        await engine.access.deactivate_person(MAKER, "bo@example.org", reason="left")
        again = await post(ada, f"/people/{bo}/deactivate", {"reason": "left"})
        gone = await post(ada, f"/people/{bo}/second-factor/reset", {"reason": "phone"})
    for answer, sentence in zip((invited, not_held, again, gone), said, strict=True):
        assert answer.status_code == 422, answer.text
        shown = problems(answer)
        dutch(shown, sentence)
        assert "bo@example.org" not in shown and "{" not in shown


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_a_cluster_no_destination_is_in_is_said_in_a_sentence_when_none_has_one(
    engine: Engine, lang: str
) -> None:
    """No destination in a cluster the admin administers (LAB's only one moved to CARD; one
    removed would keep LAB known, as its messages lie there), or none in any cluster at all
    (for an admin of all clusters): a sentence for that, not an empty (or "none") list, and
    no cluster the person may not see (CARD)."""
    theirs = {
        "nl": "geen bestemming hoort bij cluster LAB, en ook niet bij een ander cluster dat je "
        "beheert",
        "en": "no destination is in cluster LAB, nor in any other cluster you administer",
    }
    everyone = {
        "nl": "geen bestemming hoort bij cluster LAB; nog geen enkele bestemming noemt een cluster",
        "en": "no destination is in cluster LAB; no destination names a cluster yet",
    }

    async def put(dest_id: str, cluster: str | None) -> None:
        config = destination(dest_id, 2600, providers=[dest_id], cluster=cluster)
        (engine.settings.destinations_dir / f"{dest_id}.yaml").write_text(
            dump_destination(config), encoding="utf-8"
        )
        await engine.reload_destinations()

    await put("lab-zuid", "LAB")
    async with signed_in(engine, "lab@example.org", Grant(Role.ADMIN, "LAB"), lang=lang) as lab:
        await put("lab-zuid", "CARD")
        scoped = await post(
            lab, "/tokens", {"name": "lab-feed", "role": "viewer", "cluster": "LAB"}
        )
    await put("lab-west", None)  # CARD's destinations leave their cluster: none is in one
    await put("lab-zuid", None)
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang=lang) as ada:
        invite = await post(
            ada, "/people/invite", {"email": "bo@example.org", "role": "viewer", "cluster": "LAB"}
        )
    assert (scoped.status_code, invite.status_code) == (422, 422)
    assert beside(scoped, "grants") == theirs[lang]
    assert beside(invite, "grants") == everyone[lang]
    for answer in (scoped, invite):
        assert "CARD" not in problems(answer) and not CLI_OPTION.search(problems(answer))


EXISTING_LAB_WEST = {
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
"""The add form for a destination whose id (``lab-west``) the test engines have already."""


async def test_adding_a_destination_that_exists_says_to_edit_it(engine: Engine) -> None:
    form = EXISTING_LAB_WEST
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
    result = await _plan(
        _original(), "original", "lab-west", _Renderer(), live, dry_run=True, zone=UTC
    )
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
        # A count's word forms (``{count|bericht|berichten}``) name the value ``count``.
        assert {n.split("|")[0] for _, n, _, _ in fields.parse(EN[key]) if n} == {
            n.split("|")[0] for _, n, _, _ in fields.parse(NL[key]) if n
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
    transport = answered.transport(create_app(engine))
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


async def test_an_invitation_form_that_came_back_changed_is_refused_not_a_500(
    engine: Engine,
) -> None:
    """Found by an audit: mismatched passwords with a short ``totp_secret`` (a hidden field,
    only there to show the same secret again) made pyotp raise: 500. The hidden fields are
    checked first; a changed one sends the person back to the link, with the field named."""
    from integrator.http import create_app
    from tests.console.test_saved_searches import BASE, ORIGIN, csrf

    link = await engine.access.invite(MAKER, "otto@example.org", [Grant(Role.VIEWER)])
    assert link.link is not None
    secret = link.link.split("#", 1)[1]
    transport = answered.transport(create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as otto:
        form = await otto.get("/invitation")
        opened = await otto.post(
            "/invitation/open", data={"csrf": csrf(form.text), "secret": secret}, headers=ORIGIN
        )
        assert opened.status_code == 200, opened.text
        sent = {
            "csrf": csrf(opened.text),
            "secret": secret,
            "password": "a long enough passphrase",
            "password_again": "another long passphrase",
            "code": "123456",
            "email": "otto@example.org",
        }
        for changed, field in (
            ({"totp_secret": "AB"}, "totp_secret"),
            ({"totp_secret": "not base32 at all!"}, "totp_secret"),
            ({"totp_secret": "A" * 32, "email": "no address"}, "e-mailadres"),  # its Dutch name
        ):
            answer = await otto.post("/invitation/accept", data=sent | changed, headers=ORIGIN)
            assert answer.status_code == 422, answer.text
            dutch(problems(answer), f"{field}: dit formulier kwam gewijzigd of onvolledig terug")
            # The link's form, filled in: Continue makes a new secret to scan.
            assert 'action="/invitation/open"' in answer.text
            assert f'value="{secret}"' in answer.text
        # The mistake the person made is still said when the form is whole.
        whole = await otto.post(
            "/invitation/accept", data=sent | {"totp_secret": "A" * 32}, headers=ORIGIN
        )
        assert whole.status_code == 422
        dutch(problems(whole), "De twee wachtwoorden verschillen.")


# -- every refusal a person can reach, in Dutch: the destination form, tokens, people, routing --


def field_errors(answer: httpx.Response) -> dict[str, str]:
    """Each field's refusal on a form, by the field's name (``port``, ``messages-referral``)."""
    found = re.findall(r'<p class="field-error" id="([\w.-]+)-error">(.*?)</p>', answer.text, re.S)
    return {name: html.unescape(text) for name, text in found}


NEW_DESTINATION = {
    "id": "lab-oost",
    "name": "Lab Oost",
    "cluster": "",
    "providers": "lab-oost",
    "host": "127.0.0.1",
    "port": "2601",
    "connections": "1",
    "ordering": "fifo",
    "ack_mode": "original",
    "messages.referral": "ref-v2",
    "enabled": "on",
    "reason": "test",
}
WRONG_EVERYWHERE = {
    **NEW_DESTINATION,
    "id": "Lab Oost",
    "name": "",
    "providers": "lab-oost, lab-oost",
    "port": "twenty",
    "connections": "2",
    "connect_timeout": "soon",
    "rate_limit": "0",
    "receiving_facility": "LAB|OOST",
    "messages.referral": "",
}


async def test_a_destination_definition_is_refused_beside_each_field_in_dutch(
    engine: Engine,
) -> None:
    grants = (Grant(Role.ADMIN), Grant(Role.DESTINATIONS))
    async with signed_in(engine, "ada@example.org", *grants, lang="nl") as ada:
        wrong = await post(ada, "/destinations-new", WRONG_EVERYWHERE)
        retired = await post(
            ada,
            "/destinations-new",
            {**NEW_DESTINATION, "messages.diagnostic_request": "orm-lfdv1"},
        )
        edit = await ada.get("/destinations/lab-west/edit")
        revision = re.search(r'name="revision" value="(\d+)"', edit.text)
        assert revision is not None, edit.text
        too_high = await post(
            ada,
            "/destinations/lab-west/edit",
            {**field_values(edit.text), "revision": revision.group(1), "port": "70000"},
        )
        forged = await post(ada, "/destinations/lab-west/edit", {"revision": "2x"})
    assert wrong.status_code == retired.status_code == too_high.status_code == 422
    shown = field_errors(wrong)
    assert shown == {
        "id": "id: alleen a-z, 0-9 en '-', beginnend en eindigend met een letter of cijfer, met "
        "een letter erin",
        "name": "name: mag niet leeg zijn",
        "providers": "providers: elke zorgaanbieder mag maar één keer voorkomen",
        "port": "port: moet een heel getal van 1 tot en met 65535 zijn",
        "messages-referral": (
            "messages: kies een berichtversie voor verwijzingen, voor aanvragen, of voor allebei"
        ),
        "receiving_facility": "receiving_facility: moet één regel zijn, zonder '|' en zonder "
        "stuurtekens",
        "connect_timeout": "connect_timeout: moet een tijdsduur zijn zoals 500ms, 30s, 10m of "
        "24h (een getal zonder eenheid is in seconden)",
        "ordering": "ordering: moet rotate zijn als er meer dan 1 verbinding is (parallelle "
        "verbindingen kunnen de fifo-volgorde niet aanhouden)",
        "rate_limit": "rate_limit: moet meer dan 0 zijn",
    }, shown
    assert field_errors(retired) == {
        "messages-diagnostic_request": "messages.diagnostic_request: berichtversie 'orm-lfdv1' "
        "is buiten gebruik; kies de opvolger 'orm-v3'"
    }
    assert field_errors(too_high) == {
        "port": "port: moet een heel getal van 1 tot en met 65535 zijn"
    }
    dutch(problems(forged), "revisie: moet een heel getal zijn")


def field_values(form_html: str) -> dict[str, str]:
    """The text inputs and chosen options of a form as it was shown, to post it back."""
    values = dict(
        re.findall(r'<input id="f-[\w-]+" name="([\w.]+)" type="text" value="([^"]*)"', form_html)
    )
    for name, body in re.findall(
        r'<select id="f-[\w-]+" name="([\w.]+)"[^>]*>(.*?)</select>', form_html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = chosen.group(1) if chosen else ""
    return {name: html.unescape(value) for name, value in values.items()}


async def test_a_destination_definition_is_refused_in_english_as_the_service_says_it(
    engine: Engine,
) -> None:
    """English is what it was: each refused key with the service's own rule (the rule as data
    does not change its English text)."""
    from integrator.console.destination_form import definition_of_new, form_from

    grants = (Grant(Role.ADMIN), Grant(Role.DESTINATIONS))
    async with signed_in(engine, "ada@example.org", *grants) as ada:
        wrong = await post(ada, "/destinations-new", WRONG_EVERYWHERE)
    with pytest.raises(DestinationFileError) as refused:
        destination_from_mapping(definition_of_new(form_from(WRONG_EVERYWHERE)), source="x")
    expected = {f"{p.key}: {p.rule}" for p in refused.value.problems}
    assert set(field_errors(wrong).values()) == expected
    assert "port: must be a whole number from 1 to 65535" in expected
    assert "name: String should have at least 1 character" in expected


async def test_a_broken_destination_file_is_said_in_dutch_on_its_page(engine: Engine) -> None:
    path = engine.settings.destinations_dir / "lab-west.yaml"
    text = path.read_text(encoding="utf-8").replace("ack_timeout:", "ack_timout:")
    text = text.replace("diagnostic_request: orm-v3", "diagnostic_request: ORM-v3\n  refferal: x")
    path.write_text(text.replace("port: 2599", "port: nope"), encoding="utf-8")
    await engine.reload_destinations()
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER), lang="nl") as vera:
        shown = problems(await vera.get("/destinations/lab-west"))
    dutch(
        shown,
        "Het bestand is geweigerd: port: moet een heel getal van 1 tot en met 65535 zijn",
        "Het bestand is geweigerd: ack_timout: onbekende sleutel (bedoel je ack_timeout?)",
        "messages.diagnostic_request: moet de naam van een berichtversie zijn, in kleine letters",
        "messages.refferal: onbekende soort gebeurtenis: de sleutels zijn referral en "
        "diagnostic_request (bedoel je referral?)",
    )
    assert "Input should" not in shown and "unknown key" not in shown


async def test_a_destination_put_outside_ones_clusters_is_refused_in_dutch(
    engine: Engine,
) -> None:
    async with signed_in(
        engine, "dirk@example.org", Grant(Role.DESTINATIONS, "CARD"), lang="nl"
    ) as dirk:
        edit = await dirk.get("/destinations/lab-west/edit")
        form = {**field_values(edit.text), "cluster": "LAB"}
        moved = await post(dirk, "/destinations/lab-west/edit", form)
    async with signed_in(engine, "erik@example.org", Grant(Role.DESTINATIONS, "CARD")) as erik:
        moved_en = await post(erik, "/destinations/lab-west/edit", form)
    assert field_errors(moved) == {
        "cluster": "cluster: je mag geen bestemming in cluster LAB plaatsen"
    }
    assert field_errors(moved_en) == {
        "cluster": "cluster: you may not put a destination in cluster LAB"
    }


async def test_a_rollback_to_a_version_retired_since_is_refused_in_dutch(engine: Engine) -> None:
    assert isinstance(engine.clock, ManualClock)
    admin = engine.admin
    await admin.patch("lab-west", {"messages": {"referral": "ref-v1"}}, actor="test")
    await admin.patch("lab-west", {"messages": {"referral": "ref-v2"}}, actor="test")
    [*_, deprecated, _] = await admin.history("lab-west")
    engine.clock.set(datetime(2027, 7, 2, 9, 0, tzinfo=UTC))  # ref-v1 is retired now
    grants = (Grant(Role.DESTINATIONS),)
    async with signed_in(engine, "dirk@example.org", *grants, lang="nl") as dirk:
        nl = await post(
            dirk,
            "/destinations/lab-west/rollback",
            {"revision": str(deprecated["revision"]), "reason": "back"},
        )
    async with signed_in(engine, "erik@example.org", *grants) as erik:
        en = await post(
            erik,
            "/destinations/lab-west/rollback",
            {"revision": str(deprecated["revision"]), "reason": "back"},
        )
    number = deprecated["revision"]
    dutch(
        problems(nl),
        f"revisie {number}: messages.referral: berichtversie 'ref-v1' is buiten gebruik; "
        "kies de opvolger 'ref-v2'",
    )
    assert problems(en) == (
        f"revision {number}: messages.referral: message version 'ref-v1' is retired; use its "
        "successor 'ref-v2'"
    )


async def test_a_token_beyond_ones_own_grants_is_refused_in_dutch(engine: Engine) -> None:
    """The tokens page of someone who manages no tokens: a token of their own, no wider than
    their own grants; forged forms are refused in Dutch too."""
    async with signed_in(engine, "sam@example.org", Grant(Role.VIEWER, "CARD"), lang="nl") as sam:
        wider = await post(sam, "/tokens", {"name": "sam-cli", "role": "viewer", "cluster": ""})
        other_role = await post(
            sam, "/tokens", {"name": "sam-cli", "role": "superuser", "cluster": "CARD"}
        )
        short = await post(sam, "/tokens/abc/revoke", {"reason": "weg"})
        unknown = await post(
            sam, "/tokens/4f0c2a4e-0000-4000-8000-000000000000/revoke", {"reason": "x"}
        )
    async with signed_in(engine, "tom@example.org", Grant(Role.VIEWER, "CARD")) as tom:
        wider_en = await post(tom, "/tokens", {"name": "tom-cli", "role": "viewer", "cluster": ""})
    assert wider.status_code == 403
    dutch(
        beside(wider, "grants"),
        "een eigen token heeft alleen rollen die je zelf hebt, niet viewer@*; je hebt viewer@CARD",
    )
    dutch(beside(other_role, "grants"), "onbekende rol superuser (kies uit: resend, ")
    dutch(problems(short), "token-id: geef het id van het token, of minstens de eerste 4 tekens")
    dutch(problems(unknown), "token-id: geen token met dat id")
    assert beside(wider_en, "grants") == (
        "a token of your own holds only grants you hold yourself, not viewer@*; you hold "
        "viewer@CARD"
    )


async def test_a_change_of_someones_roles_is_refused_on_its_form_in_dutch(
    engine: Engine,
) -> None:
    bo = await engine.access.invite(MAKER, "bo@example.org", [Grant(Role.VIEWER)])
    assert bo.person_id is not None
    async with signed_in(engine, "ada@example.org", Grant(Role.ADMIN), lang="nl") as ada:
        grants = await post(
            ada, f"/people/{bo.person_id}/grants", {"role": "viewer", "cluster": "", "reason": " "}
        )
        gone = await post(ada, f"/people/{bo.person_id}/deactivate", {"reason": ""})
        own_id = await person_id(engine, "ada@example.org")
        own = await post(
            ada, f"/people/{own_id}/grants", {"role": "resend", "cluster": "", "reason": "mine"}
        )
    async with signed_in(engine, "adam@example.org", Grant(Role.ADMIN)) as adam:
        grants_en = await post(
            adam, f"/people/{bo.person_id}/grants", {"role": "viewer", "cluster": "", "reason": ""}
        )
    assert grants.status_code == gone.status_code == 422 and own.status_code == 403
    dutch(problems(grants), "reden: een reden is verplicht (die komt in de audittrail)")
    dutch(problems(gone), "reden: een reden is verplicht")
    dutch(problems(own), "je kunt je eigen rollen niet wijzigen", "een andere beheerder")
    assert problems(grants_en) == "reason: a reason is required (it goes into the audit trail)"


async def test_an_invitation_whose_mail_failed_says_so_in_dutch(tmp_path: Path) -> None:
    """The mail server is down: the person is invited, and the admin learns the link was not
    sent, and why."""
    with socket.socket() as unused:  # a port nothing listens on: the mail server is down
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings = settings_for(
        tmp_path,
        search_key="a-console-test-search-key",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="integrator@example.org",
        smtp_starttls=False,
    )
    settings.destinations_dir.mkdir()
    mailing = Engine(settings, clock=ManualClock(START))
    await mailing.start()
    try:
        with pytest.raises(MailFailed) as failed:
            await mailing.access.invite(MAKER, "bo@example.org", [Grant(Role.VIEWER)])
    finally:
        await mailing.stop()
    # What the people page shows for it (``grants_form.refusal``: ``said(exc)``, worded).
    dutch(
        say("nl", said(failed.value)),
        "de persoon is uitgenodigd, maar de uitnodiging kon niet worden verstuurd: er is "
        f"geen mail verstuurd via 127.0.0.1:{port} (ConnectionRefusedError). Niemand heeft de "
        "link gezien",
    )
    assert say("en", said(failed.value)) == str(failed.value)


async def test_what_routing_did_with_each_event_is_said_in_dutch(engine: Engine) -> None:
    event = load_sample("referral")
    event["provider"]["id"] = "kliniek-oost"  # nobody serves it
    await engine.intake.submit(json.dumps(event), source="cli")
    [unrouted] = await engine.store.list_events(EventFilter(unrouted=True), limit=10)
    grants = (Grant(Role.RESEND),)

    async def route(client: httpx.AsyncClient) -> httpx.Response:
        """Tick the event on the listing and route it; the result page it is sent on to."""
        listing = await client.get("/events/unrouted")
        once = re.search(r'name="once" value="([^"]+)"', listing.text)
        assert once is not None, listing.text
        data = {"ids": unrouted.id, "reason": "nu", "once": once.group(1)}
        posted = await post(client, "/events/route", data)
        assert posted.status_code == 303, posted.text
        return await client.get(posted.headers["location"])

    async with signed_in(engine, "sam@example.org", *grants, lang="nl") as sam:
        routed = await route(sam)
        unknown_provider = await post(sam, "/events/route/confirm", {"provider": "kliniek-west"})
    async with signed_in(engine, "tom@example.org", *grants) as tom:
        routed_en = await route(tom)
    assert routed.status_code == 200, routed.text
    assert "nog geen bestemming bedient zorgaanbieder 'kliniek-oost'" in html.unescape(routed.text)
    assert "no destination serves provider 'kliniek-oost' yet" in html.unescape(routed_en.text)
    dutch(
        problems(unknown_provider),
        "zorgaanbieder: geen bestemming bedient die zorgaanbieder, en geen opgeslagen gebeurtenis "
        "noemt hem; bediend: lab-west",
    )


async def test_a_forms_answer_opened_as_a_page_is_explained_in_dutch(engine: Engine) -> None:
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        opened = await sam.get("/deadletters/confirm")
    assert opened.status_code == 405
    dutch(problems(opened), "dit adres is het antwoord op een formulier")


def _definition_codes() -> Iterator[str]:
    """The codes of a destination definition's rules: ``Rule("x", …)`` in the model, and
    ``DestinationFileError(…, code="x")`` of the file's and the catalogue's own checks."""
    for path in (ROOT / "destinations" / "config.py", ROOT / "integrator" / "catalog.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            named = [node.args[0]] if node.func.id == "Rule" and node.args else []
            named += [k.value for k in node.keywords if k.arg == "code"]
            for code in named:
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    yield f"definition.{code.value}"


def test_every_rule_of_a_destination_definition_has_a_sentence() -> None:
    from integrator.console.refusals import DEFINITION_FIELDS, DEFINITION_TYPES, FORM_CODES

    codes = {*_definition_codes(), *DEFINITION_TYPES.values(), *DEFINITION_FIELDS.values()}
    codes |= {*FORM_CODES.values(), "definition.unknown_key_close"}
    assert len(codes) > 40  # the scan finds them
    assert not {c for c in codes if f"refusal.{c}" not in EN}


def test_an_unmapped_pydantic_error_shows_the_english_rule() -> None:
    from integrator.console.refusals import definition_problem

    problem = DestinationFileError(
        "x", "tls.ca_file", "Input is not a valid path", type="path_type"
    )
    assert say("nl", definition_problem(problem)) == "Input is not a valid path"


async def test_a_search_term_outside_its_set_is_refused_beside_its_field(engine: Engine) -> None:
    """The console searches through the same filter as the CLI and the API: a version or an
    event type that is none (from a link, a saved search made before) is refused beside its
    field, not answered with an empty list."""
    async with signed_in(engine, "sam@example.org", Grant(Role.RESEND), lang="nl") as sam:
        version = await sam.get("/messages", params={"version": "ref-v9"})
        event_type = await sam.get("/messages", params={"event_type": "verwijzing"})
        zd = await sam.get("/messages", params={"zd_number": "ZD12"})
        spaced = await sam.get("/messages", params={"zd_number": "zd 100 000 001"})
    # Spaced as a letter sets it out: taken, as the CLI and the API take it (search.normalise_zd).
    assert spaced.status_code == 200 and field_errors(spaced) == {}, spaced.text
    assert field_errors(version) == {
        "version": "geen berichtversie; kies uit "
        "ref-v1, ref-v2, orm-lfdv1, orm-lfdv2, orm-v3, oml-v3"
    }
    assert field_errors(event_type) == {
        "event_type": "geen soort gebeurtenis; kies uit verwijzing, aanvraag"
    }
    assert 'id="version" name="version" aria-invalid="true"' in version.text
    assert field_errors(zd) == {
        "zd_number": "een ZD-nummer is ZD en 9 cijfers, "
        "zoals op de verwijzing (kleine letters en spaties mogen ook)"
    }
    for answer in (version, event_type, zd):
        assert '<p class="problem"' not in answer.text
        assert "ref-v9" not in problems(answer)


async def test_a_provider_of_another_cluster_is_refused_beside_providers_in_dutch(
    engine: Engine,
) -> None:
    """Someone managing LAB's destinations adds a provider that CARD's ``lab-west`` serves:
    refused beside the providers field, naming neither ``lab-west`` nor CARD; nothing saved."""
    await engine.admin.patch("lab-west", {"providers": ["lab-west", "hap-noord"]}, actor="test")
    config = destination("lab-zuid", 2600, providers=["lab-zuid"], cluster="LAB")
    (engine.settings.destinations_dir / "lab-zuid.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    await engine.reload_destinations()
    before = await engine.store.list_destination_revisions("lab-zuid")
    lab = Grant(Role.DESTINATIONS, "LAB")
    async with signed_in(engine, "dirk@example.org", lab, lang="nl") as dirk:
        edit = await dirk.get("/destinations/lab-zuid/edit")
        form = {**field_values(edit.text), "providers": "lab-zuid, hap-noord"}
        nl = await post(dirk, "/destinations/lab-zuid/edit", form)
    async with signed_in(engine, "erik@example.org", lab) as erik:
        en = await post(erik, "/destinations/lab-zuid/edit", form)
    assert (nl.status_code, en.status_code) == (422, 422)
    assert field_errors(nl) == {
        "providers": "providers: zorgaanbieder hap-noord wordt bediend door een bestemming "
        "buiten je clusters; vraag het iemand met toegang tot alle clusters"
    }
    assert field_errors(en) == {
        "providers": "providers: provider hap-noord is served by a destination outside your "
        "clusters; ask someone with access to all clusters"
    }
    for answer in (nl, en):
        assert "lab-west" not in field_errors(answer)["providers"]
        assert "CARD" not in field_errors(answer)["providers"]
    assert await engine.store.list_destination_revisions("lab-zuid") == before
    assert engine.catalog.destinations["lab-zuid"].providers == ("lab-zuid",)


async def test_a_destination_page_names_only_the_sharers_its_reader_may_see(engine: Engine) -> None:
    """``lab-zuid`` (LAB) serves a provider CARD's ``lab-west`` serves too: its page tells a
    reader of all clusters so, naming ``lab-west``; a reader of LAB only is told nothing."""
    config = destination("lab-zuid", 2600, providers=["lab-zuid", "hap-noord"], cluster="LAB")
    (engine.settings.destinations_dir / "lab-zuid.yaml").write_text(
        dump_destination(config), encoding="utf-8"
    )
    await engine.admin.patch("lab-west", {"providers": ["lab-west", "hap-noord"]}, actor="test")
    await engine.reload_destinations()
    async with signed_in(engine, "vera@example.org", Grant(Role.VIEWER)) as vera:
        everywhere = html.unescape((await vera.get("/destinations/lab-zuid")).text)
    async with signed_in(engine, "lars@example.org", Grant(Role.VIEWER, "LAB")) as lars:
        shown = await lars.get("/destinations/lab-zuid")
    assert "provider hap-noord is also served by lab-west" in everywhere
    assert shown.status_code == 200, shown.text
    assert "also served" not in shown.text and "lab-west" not in shown.text


async def test_a_csrf_token_in_other_characters_is_refused_not_a_500(engine: Engine) -> None:
    """compare_digest refuses a str that is not ASCII: such a token was a 500 (with an ERROR
    log line), where every other wrong token is the refusal of a post not from the console."""
    from integrator.http import create_app
    from tests.console.test_saved_searches import BASE, ORIGIN

    transport = answered.transport(create_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as browser:
        await browser.get("/login")
        sent = await browser.post(
            "/login",
            data={"csrf": "é" * 8, "email": "a@example.org", "password": "x", "code": "1"},
            headers=ORIGIN,
        )
    assert sent.status_code == 403, sent.text
