"""Property: whole valid events, generated as JSON-like dicts and validated by
`schemas.parse_event`, map in every version to a message that python-hl7 parses, that fits the
version's segment grammar (from hl7apy's tables), and that gives every value back unchanged.

Text is drawn from Latin-1 (with the HL7 delimiters), so the 8859/1 versions need no
transliteration and the values must come back exactly; `test_charset` covers the rest. Values
are as long as the standard's lengths let them come back whole (`FITTING`); `test_lengths`
draws the same events with far longer values (`LONG`) to check what is cut.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Final

from hypothesis import given, settings
from hypothesis import strategies as st

from mappings import map_event
from mappings.datatypes import surname_as_used
from mappings.observations import question_code
from schemas import DiagnosticRequest, Referral, parse_event
from tests.mappings import grammar
from tests.mappings.helpers import VERSIONS, context, read_back, segment_names, value

SETTINGS = settings(max_examples=100, deadline=None)

ALPHABET = st.one_of(
    st.sampled_from("|^~\\&"),
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
)


def _escaped_width(text: str) -> int:
    """A delimiter is sent as `\\F\\` (3 wide), a C1 control as `\\X85\\` (5 wide)."""
    return sum(3 if char in "|^~\\&" else 5 if "\x80" <= char <= "\x9f" else 1 for char in text)


def _within(text: str, width: int) -> str:
    """The longest start of `text` that is at most `width` characters once escaped."""
    used = 0
    for index, char in enumerate(text):
        used += _escaped_width(char)
        if used > width:
            return text[:index]
    return text


def text(width: int) -> st.SearchStrategy[str]:
    """Text of at most `width` characters on the wire (after escaping), stripped, not blank.
    Past 100, a short drawn text repeated to between half of `width` and all of it (long random
    text would take hypothesis more data than it allows)."""
    if width <= 100:
        drawn = st.text(ALPHABET, min_size=1, max_size=width)
    else:
        unit = st.text(ALPHABET, min_size=1, max_size=20)
        drawn = st.tuples(unit, st.integers(width // 2, width)).map(
            lambda drawn: (drawn[0] * width)[: drawn[1]]
        )
    return drawn.map(lambda value: _within(value, width).strip()).filter(bool)


Widths = Mapping[str, int]
# Widths on the wire that fit the tightest HL7 2.5.1 lengths, the field's length included, so
# that every value comes back whole: prefixes 8 (FN-2/4: 20), surnames 16 and 15 (the surname as
# used, prefix + surname + partner's, within FN-1's 50), codes 20 (CE-1, CWE-1, PL-1, IS),
# identifiers 15 (CX-1, IN1-36), other text 24 (within XPN-2 30, XON-1 50, PRD-4's 36).
FITTING: Final[Widths] = {
    "prefix": 8,
    "family": 16,
    "partner_family": 15,
    "code": 20,
    "id": 15,
    "text": 24,
}
# Far beyond every length: what comes out must still conform (test_lengths).
LONG: Final[Widths] = dict.fromkeys(FITTING, 400)
DIGITS = st.text("0123456789", min_size=1, max_size=1)


def digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


def _bsn(eight: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(eight, range(9, 1, -1), strict=True))
    last = total % 11
    return None if last == 10 or eight == "00000000" else eight + str(last)


BSN = digits(8).map(_bsn).filter(lambda bsn: bsn is not None)
POSTCODE = st.tuples(st.integers(1000, 9999), st.sampled_from(["AB", "CD", "XY", "ZZ", "KL"])).map(
    lambda parts: f"{parts[0]} {parts[1]}"
)


@st.composite
def person_name(draw: st.DrawFn, widths: Widths = FITTING) -> dict[str, Any]:
    name: dict[str, Any] = {"family": draw(text(widths["family"]))}
    for optional in ("given", "initials"):
        if draw(st.booleans()):
            name[optional] = draw(text(widths["text"]))
    if draw(st.booleans()):
        name["prefix"] = draw(text(widths["prefix"]))
    if draw(st.booleans()):
        name["partner_family"] = draw(text(widths["partner_family"]))
        if draw(st.booleans()):
            name["partner_prefix"] = draw(text(widths["prefix"]))
        name["name_usage"] = draw(st.sampled_from(["own", "partner", "partner_own", "own_partner"]))
    return name


@st.composite
def address(draw: st.DrawFn, widths: Widths = FITTING) -> dict[str, Any]:
    result: dict[str, Any] = {
        "street": draw(text(widths["text"])),
        "house_number": draw(st.integers(1, 9999)),
        "postcode": draw(POSTCODE),
        "city": draw(text(widths["text"])),
    }
    if draw(st.booleans()):
        result["house_number_addition"] = draw(text(widths["text"]))
    return result


@st.composite
def question(draw: st.DrawFn, widths: Widths = FITTING) -> dict[str, Any]:
    kind = draw(st.sampled_from(["yes_no", "open", "multiple_choice", "date"]))
    title = draw(text(widths["text"]))
    result: dict[str, Any] = {"title": title, "required": True, "answer_type": kind}
    if draw(st.booleans()):
        result["code"] = draw(text(widths["code"]))
    if kind == "yes_no":
        result["answer"] = draw(st.booleans())
    elif kind == "open":
        result["answer"] = draw(text(widths["text"]))
    elif kind == "date":
        result["answer"] = draw(st.dates(datetime.date(1900, 1, 1))).isoformat()
    else:
        options = draw(st.lists(text(widths["text"]), min_size=1, max_size=3, unique=True))
        result["options"] = options
        result["answer"] = draw(st.lists(st.sampled_from(options), min_size=1, unique=True))
    return result


@st.composite
def common(draw: st.DrawFn, kind: str, widths: Widths = FITTING) -> dict[str, Any]:
    words, code, identifier = text(widths["text"]), text(widths["code"]), text(widths["id"])
    patient: dict[str, Any] = {
        "name": draw(person_name(widths)),
        "birth_date": draw(
            st.dates(datetime.date(1900, 1, 1), datetime.date(2026, 1, 1))
        ).isoformat(),
        "gender": draw(st.sampled_from("MFOU")),
        "address": draw(address(widths)),
    }
    if draw(st.booleans()):
        patient["bsn"] = draw(BSN)
    if draw(st.booleans()):
        patient["local_id"] = draw(identifier)
    if draw(st.booleans()):
        patient["insurance"] = {"uzovi": draw(digits(4)), "policy_number": draw(identifier)}
    organisation: dict[str, Any] = {"name": draw(words)}
    if draw(st.booleans()):
        organisation["agb"] = draw(digits(8))
    referrer: dict[str, Any] = {"agb": draw(digits(8)), "name": draw(person_name(widths))}
    if draw(st.booleans()):
        referrer["big"] = draw(digits(11))
    if draw(st.booleans()):
        referrer["organisation"] = organisation
    event: dict[str, Any] = {
        "event_id": "6f1c2a4e-8b1d-4a53-9d0e-3c2b1a000009",
        "schema_version": 1,
        "type": kind,
        "action": draw(st.sampled_from(["new", "cancel"])),
        "zd_number": "ZD" + draw(digits(9)),
        "created_at": "2026-11-20T09:15:00+01:00",
        "priority": draw(st.sampled_from(["routine", "urgent"])),
        "provider": {"id": "p-1", "name": draw(words), "agb": draw(digits(8))},
        "care_product": {"code": draw(code), "name": draw(words)},
        "patient": patient,
        "referrer": referrer,
        "questions": draw(st.lists(question(widths), max_size=3)),
    }
    if draw(st.booleans()):
        event["cluster"] = {"code": draw(code), "name": draw(words)}
    if draw(st.booleans()):
        event["attachments"] = [
            {"filename": "a.pdf", "content_type": "application/pdf", "data": "JVBERi0xLjQK"}
        ]
    return event


@st.composite
def referrals(draw: st.DrawFn, widths: Widths = FITTING) -> Referral:
    event = draw(common("referral", widths))
    words = text(widths["text"])
    event["care_question"] = {"text": draw(words)}
    event["icpc"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {"code": st.from_regex(r"[A-Z][0-9]{2}", fullmatch=True), "text": words}
            ),
            max_size=2,
        )
    )
    event["letter"] = {"reason": draw(words)}
    parsed = parse_event(event)
    assert isinstance(parsed, Referral)
    return parsed


@st.composite
def diagnostic_requests(draw: st.DrawFn, widths: Widths = FITTING) -> DiagnosticRequest:
    event = draw(common("diagnostic_request", widths))
    words, code = text(widths["text"]), text(widths["code"])
    tests = []
    for _ in range(draw(st.integers(1, 3))):
        test: dict[str, Any] = {"code": draw(code), "name": draw(words)}
        if draw(st.booleans()):
            test["specimen"] = {"type": draw(code)}
            if draw(st.booleans()):
                test["specimen"]["container"] = draw(words)
        tests.append(test)
    event["tests"] = tests
    if draw(st.booleans()):
        event["collection"] = {
            "location_id": draw(code),
            "location_name": draw(words),
            "requested_date": "2026-11-24",
        }
    if draw(st.booleans()):
        event["clinical_info"] = draw(words)
    parsed = parse_event(event)
    assert isinstance(parsed, DiagnosticRequest)
    return parsed


def _conforms(version: str, text: str) -> None:
    _, structure, hl7_version, _ = VERSIONS[version]
    grammar.check(segment_names(text), structure, hl7_version)


def _patient_comes_back(message: Any, event: Referral | DiagnosticRequest) -> None:
    patient = event.patient
    name = patient.name
    assert value(message, "PID.F5.R1.C1.S1") == surname_as_used(name)
    assert value(message, "PID.F5.R1.C1.S3") == name.family
    assert value(message, "PID.F5.R1.C2") == (name.given or "")
    assert value(message, "PID.F5.R1.C3") == (name.initials or "")
    assert value(message, "PID.F5.R1.C1.S2") == (name.prefix or "")
    assert value(message, "PID.F5.R1.C1.S5") == (name.partner_family or "")
    assert patient.address is not None
    assert value(message, "PID.F11.R1.C1.S2") == patient.address.street
    assert value(message, "PID.F11.R1.C3") == patient.address.city
    assert value(message, "PID.F11.R1.C5") == patient.address.postcode
    ids = 1 if patient.bsn is None else 2
    assert value(message, f"PID.F3.R{ids}.C1") == event.zd_number
    if patient.bsn is not None:
        assert value(message, "PID.F3.R1.C1") == patient.bsn
    if patient.local_id is not None:
        assert value(message, f"PID.F3.R{ids + 1}.C1") == patient.local_id
    if patient.insurance is not None:
        assert value(message, "IN1.F36") == patient.insurance.policy_number


def _questions_come_back(message: Any, event: Referral | DiagnosticRequest, first: int) -> None:
    for number, item in enumerate(event.questions, first):
        assert value(message, f"OBX{number}.F3.R1.C1") == question_code(item)
        assert value(message, f"OBX{number}.F3.R1.C2") == item.title
        answer = item.answer
        if item.answer_type == "open":
            assert value(message, f"OBX{number}.F5") == answer
        elif item.answer_type == "multiple_choice":
            assert isinstance(answer, tuple)
            for repetition, option in enumerate(answer, 1):
                assert value(message, f"OBX{number}.F5.R{repetition}.C2") == option


@SETTINGS
@given(event=referrals(), version=st.sampled_from(["ref-v1", "ref-v2"]))
def test_generated_referrals(event: Referral, version: str) -> None:
    mapped = map_event(version, event, context())
    assert mapped.warnings == ()
    _conforms(version, mapped.text)
    message = read_back(mapped)
    assert len(message) == mapped.text.count("\r")
    _patient_comes_back(message, event)
    assert value(message, "RF1.F1") == ("C" if event.action == "cancel" else "P")
    assert value(message, "RF1.F6.R1.C1") == event.zd_number
    assert value(message, "RF1.F10.R1.C2") == event.care_question.text
    assert value(message, "OBR.F4.R1.C1") == event.care_product.code
    assert value(message, "OBR.F4.R1.C2") == event.care_product.name
    assert value(message, "OBX1.F5") == event.letter.reason
    assert value(message, "PRD2.F4.R1.C9") == event.provider.name
    assert value(message, "PRD.F2.R1.C1.S3") == event.referrer.name.family
    for number, item in enumerate(event.icpc, 1):
        assert value(message, f"DG1{number}.F3.R1.C2") == item.text
    _questions_come_back(message, event, 2)
    if event.cluster is not None:
        assert value(message, f"NTE{1 + len(event.attachments)}.F3.R2") == event.cluster.name


@SETTINGS
@given(event=diagnostic_requests(), version=st.sampled_from(["orm-lfdv2", "orm-v3", "oml-v3"]))
def test_generated_diagnostic_requests(event: DiagnosticRequest, version: str) -> None:
    mapped = map_event(version, event, context())
    assert mapped.warnings == ()
    _conforms(version, mapped.text)
    message = read_back(mapped)
    assert len(message) == mapped.text.count("\r")
    _patient_comes_back(message, event)
    control = "CA" if event.action == "cancel" else "NW"
    assert {str(orc[1]) for orc in message.segments("ORC")} == {control}
    assert value(message, "OBR.F4.R1.C1") == event.care_product.code
    assert value(message, "OBR.F4.R1.C2") == event.care_product.name
    placers = set()
    for number, test in enumerate(event.tests, 2):
        assert value(message, f"OBR{number}.F4.R1.C1") == test.code
        assert value(message, f"OBR{number}.F4.R1.C2") == test.name
        placers.add(value(message, f"OBR{number}.F2.R1.C1"))
        assert value(message, f"ORC{number}.F4.R1.C1") == event.zd_number
        if test.specimen is not None:
            assert value(message, f"OBR{number}.F15.R1.C1") == test.specimen.type
    assert len(placers) == len(event.tests)
    if version == "oml-v3":
        with_specimen = [test.specimen for test in event.tests if test.specimen is not None]
        for number, specimen in enumerate(with_specimen, 1):
            assert value(message, f"SPM{number}.F4.R1.C1") == specimen.type
            if specimen.container is not None:
                assert value(message, f"SPM{number}.F27.R1.C2") == specimen.container
    first = 1 + (event.clinical_info is not None)
    if event.clinical_info is not None:
        assert value(message, "OBX1.F5") == event.clinical_info
    _questions_come_back(message, event, first)
