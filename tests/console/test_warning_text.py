"""A message's warnings, said in the person's language (``integrator.console.warning_text``).

The engine keeps them in English for the CLI and the API; the console reads each back by the
``Shape`` it was written with and words it in Dutch or English. Here the real mapping, the real
sunset rules, the real intake rendering and the real ZD check write every warning they can, and
each must be worded in Dutch (none falls back to the English), and in English exactly as stored;
a text no shape reads is shown as stored.
"""

from __future__ import annotations

import dataclasses
import json
import string
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from integrator import deprecation, intake, zd_sequence
from integrator.catalog import build_catalog
from integrator.clock import ManualClock
from integrator.console.i18n import EN, NL, Translator
from integrator.console.refusals import say
from integrator.console.warning_text import SHAPES, read, word, worded_in
from integrator.intake import Intake
from integrator.preparing import prepare
from integrator.refusal import Note
from integrator.store import EventRecord, Store
from integrator.store.records import ZdEvent
from integrator.zd_sequence import judge
from mappings import charset, countries, errors, lengths, map_event
from mappings.charset import encode
from mappings.errors import MappingError, RetiredVersionError
from mappings.registry import REGISTRY
from schemas import DiagnosticRequest, EventValidationError, Referral, parse_event
from shapes import Shape
from tests.integrator.support import destination, settings_for
from tests.mappings.helpers import context, replace_at

LONG = "Abcdefghij" * 30
BEFORE_LFDV1_SUNSET = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # orm-lfdv1: no mapper, deprecated
AFTER_REF_V1_SUNSET = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)
WRITERS = (lengths, charset, countries, errors, deprecation, intake, zd_sequence)


@pytest.fixture
def referral(referral_data: dict[str, Any]) -> Referral:
    event = parse_event(referral_data)
    assert isinstance(event, Referral)
    return event


@pytest.fixture
def diagnostic_request(diagnostic_request_data: dict[str, Any]) -> DiagnosticRequest:
    event = parse_event(diagnostic_request_data)
    assert isinstance(event, DiagnosticRequest)
    return event


def _mapped(version: str, event: Any, *changes: tuple[tuple[str | int, ...], Any]) -> list[str]:
    for path, new in changes:
        event = replace_at(event, path, new)
    return list(map_event(version, event, context()).warnings)


def _rendered(
    tmp_path: Path, event: Any, configured: str, now: datetime, *, auto_upgrade: bool = False
) -> list[str]:
    """The warnings ``Intake.render`` gives the message it makes, as intake stores them."""
    engine_intake = Intake(
        store=cast(Store, None),  # rendering reads no store
        transport=None,
        catalog=build_catalog([], today=now.date()),
        settings=settings_for(tmp_path),
        clock=ManualClock(now),
    )
    target = destination("noord", 2575, providers=["p"], auto_upgrade=auto_upgrade)
    return list(engine_intake.render(event, target, configured, now).warnings)


def _record(action: str, event_type: str = "referral") -> EventRecord:
    return EventRecord(
        id=str(uuid.uuid4()),
        type=event_type,
        action=action,
        zd_number="ZD100000001",
        provider_id="p",
        received_at=datetime.now(UTC),
        source="http",
        payload="{}",
    )


def _zd_warnings() -> list[str]:
    """Every rule of the ZD check, from ``judge`` on a history and a batch."""
    new, cancel = _record("new"), _record("cancel")
    other_new = _record("new", "diagnostic_request")
    lone_cancel, other_cancel = _record("cancel"), _record("cancel")
    second_new, second_cancel, new_after = _record("new"), _record("cancel"), _record("new")
    found = [
        *judge({}, [lone_cancel]).values(),  # cancel_without_new
        *judge(
            {"ZD100000001": [ZdEvent(other_new.id, other_new.type, "new")]}, [other_cancel]
        ).values(),  # cancel_without_new, naming the request of the same number
        *judge({}, [new, second_new, cancel, second_cancel, new_after]).values(),
    ]
    return [finding.warning for findings in found for finding in findings]


@pytest.fixture
def written(
    tmp_path: Path,
    referral: Referral,
    diagnostic_request: DiagnosticRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    """Every warning the engine writes on a message, each written by the engine's own code."""
    found: list[str] = []
    # The lengths (mappings.lengths): text cut, identifiers kept whole.
    found += _mapped("ref-v2", referral, (("referrer", "name", "given"), LONG))
    found += _mapped("ref-v2", referral, (("care_product", "code"), LONG))
    # The character sets (mappings.charset), for one character and for more.
    found += _mapped("ref-v1", referral, (("patient", "name", "given"), "Łukasz"))
    found += _mapped("ref-v1", referral, (("patient", "name", "given"), "中"))
    found += _mapped("ref-v1", referral, (("patient", "name", "given"), "中文Ł"))
    found += _mapped("ref-v2", referral, (("patient", "name", "given"), "a\ud800b"))
    found += _mapped("ref-v2", referral, (("patient", "name", "given"), "\ud800\udbff"))
    # The country codes (mappings.countries).
    found += _mapped("orm-v3", diagnostic_request, (("patient", "address", "country"), "XK"))
    # The sunset rules and a refused mapping, as intake renders a message (held or upgraded).
    found += _rendered(tmp_path, referral, "ref-v1", AFTER_REF_V1_SUNSET)
    found += _rendered(tmp_path, referral, "ref-v1", AFTER_REF_V1_SUNSET, auto_upgrade=True)
    found += _rendered(tmp_path, diagnostic_request, "ref-v2", AFTER_REF_V1_SUNSET)
    found += _rendered(tmp_path, diagnostic_request, "orm-lfdv1", BEFORE_LFDV1_SUNSET)
    successor = dataclasses.replace(REGISTRY["ref-v2"], mapper=None)  # none the upgrade can use
    monkeypatch.setattr(deprecation, "REGISTRY", {**REGISTRY, "ref-v2": successor})
    found += _rendered(tmp_path, referral, "ref-v1", AFTER_REF_V1_SUNSET, auto_upgrade=True)
    monkeypatch.undo()
    # The mapping's other refusals, held as intake holds a message for any of them.
    refusals: list[MappingError] = [RetiredVersionError("x-v1", date(2026, 1, 1), None)]
    for version in ("ref-v9", "orm-lfdv1"):
        with pytest.raises(MappingError) as refused:
            map_event(version, diagnostic_request, context())
        refusals.append(refused.value)
    with pytest.raises(MappingError) as refused:
        encode("x", "ASCII")
    refusals.append(refused.value)
    found += [intake.HELD(reason=refusal) for refusal in refusals]
    # A held message whose stored event broke rules added since (``Intake.release_held``).
    stale = {**referral.model_dump(mode="json"), "event_id": "00000000-0000-0000-0000-000000000000"}
    with pytest.raises(EventValidationError) as broken:
        parse_event(stale)
    found.append(intake.NOT_RELEASED(rules=", ".join(intake.rules_broken(broken.value))))
    # The ZD number's history (integrator.zd_sequence), and as said to a reader who may not
    # see the earlier event (message_reads.messages_in_sight).
    found += _zd_warnings()
    found += [zd_sequence.unnamed(w) for w in _zd_warnings() if zd_sequence.earlier_event(w)]
    # An event whose created_at is more than a day after it arrived (``preparing._prepared``).
    ahead = referral.model_copy(update={"created_at": BEFORE_LFDV1_SUNSET + timedelta(days=400)})
    target = destination("noord", 2575, providers=["p"])
    keyed = settings_for(tmp_path, search_key="k" * 32)
    made = prepare(ahead, "http", BEFORE_LFDV1_SUNSET, [target], keyed, UTC)
    found += [w for m in made.messages for w in m.warnings]
    return found


def _codes(warnings: list[str]) -> set[str]:
    """The codes of the shapes that read ``warnings``, and the warnings within them."""
    codes: set[str] = set()
    for warning in warnings:
        found = read(warning)
        if found is not None:
            codes |= {found[0].code, *_codes([v for n, v in found[1].items() if n == "reason"])}
    return codes


def test_every_warning_the_engine_writes_is_worded_in_dutch(written: list[str]) -> None:
    for warning in written:
        dutch = worded_in("nl", warning)
        assert dutch is not None, f"no shape reads {warning!r}: it would be shown in English"
        assert dutch != warning, warning
    assert _codes(written) == {shape.code for shape in SHAPES}  # each shape is written above


def test_english_pages_show_each_warning_as_the_engine_wrote_it(written: list[str]) -> None:
    for warning in written:
        assert worded_in("en", warning) == warning


@pytest.mark.parametrize(
    ("stored", "dutch"),
    [
        (
            "PRD-2.2, OBR-16.3, PV1-8.3 shortened to 30 characters",
            "PRD-2.2, OBR-16.3, PV1-8.3 ingekort tot 30 tekens",
        ),
        (
            "PID-3.1 kept whole: longer than 15 characters",
            "PID-3.1 niet ingekort: langer dan 15 tekens",
        ),
        (
            "1 character outside ISO 8859-1 was transliterated",
            "1 teken buiten ISO 8859-1 is getranslitereerd",
        ),
        (
            "7 characters outside ISO 8859-1 were transliterated",
            "7 tekens buiten ISO 8859-1 zijn getranslitereerd",
        ),
        (
            "1 character without a Latin-1 equivalent was replaced by '?'",
            "1 teken zonder Latin-1-equivalent is vervangen door '?'",
        ),
        (
            "4 characters without a Latin-1 equivalent were replaced by '?'",
            "4 tekens zonder Latin-1-equivalent zijn vervangen door '?'",
        ),
        (
            "2 characters that cannot be encoded in UTF-8 (lone surrogates) were replaced by '?'",
            "2 tekens die niet in UTF-8 kunnen (losse surrogaten) zijn vervangen door '?'",
        ),
        (
            "PID-11.6, ORC-22.6 country code not in ISO 3166-1: sent as given",
            "landcode in PID-11.6, ORC-22.6 staat niet in ISO 3166-1: verstuurd zoals opgegeven",
        ),
        (
            "held: message version ref-v1 is retired since 2027-07-01; move the destination to "
            "ref-v2 to release it",
            "vastgehouden: berichtversie ref-v1 is buiten gebruik sinds 2027-07-01; zet de "
            "bestemming op ref-v2 om het bericht vrij te geven",
        ),
        (
            "message version ref-v1 is retired since 2027-07-01; mapped with its successor "
            "ref-v2 (auto_upgrade)",
            "berichtversie ref-v1 is buiten gebruik sinds 2027-07-01; omgezet met de opvolger "
            "ref-v2 (auto_upgrade)",
        ),
        (
            "held: message version 'orm-lfdv1' has no mapper yet",
            "vastgehouden: voor berichtversie 'orm-lfdv1' is nog geen omzetting",
        ),
        (
            "cancel_without_new: no new diagnostic request with this ZD number was accepted "
            "before this cancel; the cancel is sent all the same, for a diagnostic request the "
            "destination may never have received (event 6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001 "
            "has this ZD number as a referral)",
            "cancel_without_new: met dit ZD-nummer is geen nieuwe aanvraag aangenomen vóór "
            "deze annulering; de annulering wordt toch verstuurd, voor een aanvraag die de "
            "bestemming misschien nooit heeft ontvangen (gebeurtenis "
            "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001 heeft dit ZD-nummer als verwijzing)",
        ),
        (
            "new_repeated: a new referral with this ZD number was accepted before, in event "
            "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001; this one is sent as well, so the destination "
            "may make a second referral of it",
            "new_repeated: een nieuwe verwijzing met dit ZD-nummer is al eerder aangenomen, in "
            "gebeurtenis 6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001; deze wordt ook verstuurd, dus de "
            "bestemming maakt er misschien een tweede verwijzing van",
        ),
    ],
)
def test_each_shape_is_worded_in_dutch_with_its_values(stored: str, dutch: str) -> None:
    assert word("nl", stored) == dutch
    assert word("en", stored) == stored


@pytest.mark.parametrize(
    "stored",
    [
        "something the engine will say one day",
        "PID-5.1.1 shortened to many characters",  # not a count
        "held: something no shape reads",  # the reason is not known: the whole is English
        "cancel_repeated: this ZD number's bulletin was cancelled before, in event "
        "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000001; this cancel is sent as well",  # unknown kind
        "1 character outside ISO 8859-1 was transliterated, twice",  # more than the sentence
        "",
    ],
)
def test_a_warning_no_shape_reads_is_shown_as_stored(stored: str) -> None:
    assert worded_in("nl", stored) is None
    assert word("nl", stored) == stored
    assert Translator("nl").warning(stored) == stored


def test_pages_word_warnings_through_the_translator() -> None:
    stored = "PID-11.3 shortened to 50 characters"
    assert Translator("nl").warning(stored) == "PID-11.3 ingekort tot 50 tekens"
    assert Translator("en").warning(stored) == stored


def test_a_held_remap_s_note_words_its_warnings() -> None:
    """Why a remap is not resent (``IntakeRenderer.remap``), on the preview and on the dead
    letters' and batch resend's pages, also after the store kept it as JSON."""
    warnings = ("held: message version 'orm-lfdv1' has no mapper yet",)
    note = Note("; ".join(warnings), "resend.skip.remap_held", warnings=warnings)
    assert say("nl", note) == "vastgehouden: voor berichtversie 'orm-lfdv1' is nog geen omzetting"
    assert say("en", note) == str(note)
    kept = json.loads(json.dumps({"warnings": warnings}))
    assert say("nl", Note(str(note), "resend.skip.remap_held", **kept)).startswith("vastgehouden")


def test_every_shape_the_engine_writes_with_has_a_sentence_in_both_languages() -> None:
    defined = {
        id(value)
        for module in WRITERS
        for value in vars(module).values()
        if isinstance(value, Shape)
    }
    assert defined == {id(shape) for shape in SHAPES}  # the console knows every one
    codes = [shape.code for shape in SHAPES]
    assert len(codes) == len(set(codes))
    fields = string.Formatter()
    for shape in SHAPES:
        key = f"warning.{shape.code}"
        assert key in EN and key in NL, key
        named = {name for _, name, _, _ in fields.parse(shape.template) if name}
        for catalogue in (EN, NL):
            said = {name for _, name, _, _ in fields.parse(catalogue[key]) if name}
            assert said <= named, (key, said - named)
    assert not [key for key in EN if key.startswith("warning.") and key[8:] not in codes]
