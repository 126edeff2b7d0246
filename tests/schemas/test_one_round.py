"""One answer tells every broken rule: the cross-field rules pydantic skips for a field error
(`schemas.deferred`) are reported beside it, and none follows from a value that is itself wrong.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import inspect
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import schemas.parse
from schemas import DiagnosticRequest, EventValidationError, Referral, parse_event
from schemas.attachments import MAX_ATTACHMENT_BYTES
from schemas.deferred import _CHECKS, DEFERRED_RULES

from .support import DELETE, edited, errors_of, parse_both

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
TEXT = "Uitslag: geen bijzonderheden. Ééntje.\n".encode()
ORGANISATION_ADDRESS = "referrer.organisation.address"


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def _apply(data: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    """`data` with each path set to its value, or removed for DELETE when it is there."""
    for path, value in edits.items():
        if value is DELETE:
            with contextlib.suppress(KeyError):
                data = edited(data, path)
        else:
            data = edited(data, path, value)
    return data


# --- The example from the report ---------------------------------------------------------------


def test_no_identification_and_a_bad_birth_date_are_told_at_once(
    referral_data: dict[str, Any],
) -> None:
    data = _apply(referral_data, {"patient.bsn": DELETE, "patient.address": DELETE})
    data = _apply(data, {"patient.birth_date": "1990-13-45"})
    assert errors_of(data) == [
        ("patient.birth_date", "date_format"),
        ("patient", "bsn_or_address"),
    ]
    # Once the birth date is fixed, nothing new comes up.
    assert errors_of(_apply(data, {"patient.birth_date": "1990-12-15"})) == [
        ("patient", "bsn_or_address")
    ]


def test_a_failing_deferred_check_leaves_pydantics_refusal_as_it_was(
    referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deferred checks only add to a refusal: should one meet a shape it did not foresee,
    the answer is still the 422 with pydantic's errors, never a 500 with a traceback."""
    import schemas.deferred

    def broken(*_args: Any) -> None:
        raise TypeError("a shape nobody foresaw")

    monkeypatch.setattr(schemas.deferred, "_judge_model", broken)
    data = _apply(referral_data, {"patient.bsn": DELETE, "patient.address": DELETE})
    data = _apply(data, {"patient.birth_date": "1990-13-45"})
    assert errors_of(data) == [("patient.birth_date", "date_format")]


# --- Each model validator, with a field error in its own model beside it ------------------------


@pytest.mark.parametrize("name", ["patient.name", "referrer.name"])
def test_partner_name_with_a_field_error_in_the_name(
    referral_data: dict[str, Any], name: str
) -> None:
    data = edited(referral_data, f"{name}.name_usage", "partner_own")
    data = edited(data, f"{name}.initials", "J" * 1001)
    assert errors_of(data) == [
        (f"{name}.initials", "text_too_long"),
        (f"{name}.partner_family", "partner_family_required"),
    ]


@pytest.mark.parametrize("partner_family", [DELETE, None, "", " \t "])
def test_a_blank_or_absent_partner_family_is_missing(
    referral_data: dict[str, Any], partner_family: object
) -> None:
    data = _apply(referral_data, {"patient.name.name_usage": "partner", "patient.name.family": ""})
    data = _apply(data, {"patient.name.partner_family": partner_family})
    assert errors_of(data) == [
        ("patient.name.family", "blank"),
        ("patient.name.partner_family", "partner_family_required"),
    ]


@pytest.mark.parametrize("country", ["NL", " NL ", DELETE])
def test_dutch_postcode_with_a_field_error_in_the_address(
    referral_data: dict[str, Any], country: object
) -> None:
    data = _apply(referral_data, {"patient.address.postcode": "0234 XY"})
    data = _apply(data, {"patient.address.country": country, "patient.address.city": "  "})
    assert errors_of(data) == [
        ("patient.address.city", "blank"),
        ("patient.address.postcode", "postcode_format"),
    ]


def test_organisation_postcode_with_a_field_error_in_the_address(
    referral_data: dict[str, Any],
) -> None:
    address = {"street": "Laan", "house_number": 0, "postcode": "1234 SS", "city": "Utrecht"}
    data = edited(referral_data, ORGANISATION_ADDRESS, address)
    assert errors_of(data) == [
        (f"{ORGANISATION_ADDRESS}.house_number", "house_number"),
        (f"{ORGANISATION_ADDRESS}.postcode", "postcode_format"),
    ]


@pytest.mark.parametrize("postcode", ["1234AB", " 1234 ab "])
def test_a_dutch_postcode_without_space_or_in_lower_case_is_no_error(
    referral_data: dict[str, Any], postcode: str
) -> None:
    data = _apply(referral_data, {"patient.address.postcode": postcode, "patient.address.city": ""})
    assert errors_of(data) == [("patient.address.city", "blank")]


def test_a_foreign_postcode_is_not_held_to_the_dutch_rule(referral_data: dict[str, Any]) -> None:
    data = _apply(referral_data, {"patient.address.postcode": "B-1000", "patient.address.city": ""})
    assert errors_of(_apply(data, {"patient.address.country": "BE"})) == [
        ("patient.address.city", "blank")
    ]


@pytest.mark.parametrize("bsn", [DELETE, None, "", "   "])
def test_identification_with_a_field_error_in_the_patient(
    referral_data: dict[str, Any], bsn: object
) -> None:
    data = _apply(referral_data, {"patient.address": DELETE, "patient.gender": "X"})
    data = _apply(data, {"patient.bsn": bsn})
    assert errors_of(data) == [("patient.gender", "allowed_values"), ("patient", "bsn_or_address")]


def test_identification_with_an_address_of_null(referral_data: dict[str, Any]) -> None:
    data = _apply(
        referral_data, {"patient.bsn": DELETE, "patient.address": None, "patient.phone": 12}
    )
    assert errors_of(data) == [("patient.phone", "type"), ("patient", "bsn_or_address")]


def test_attachment_content_with_a_field_error_in_the_attachment(
    referral_data: dict[str, Any],
) -> None:
    data = _apply(
        referral_data,
        {"attachments[0].content_type": "image/png", "attachments[0].filename": "../ecg.pdf"},
    )
    assert errors_of(data) == [
        ("attachments[0].filename", "filename_format"),
        ("attachments[0].data", "content_mismatch"),
    ]


def test_wrapped_text_attachment_content_judged_as_its_field_compacts_it(
    referral_data: dict[str, Any],
) -> None:
    wrapped = base64.encodebytes(b"\xff\xfe not utf-8 " * 20).decode("ascii")
    assert "\n" in wrapped
    attachment = {"filename": "a/b", "content_type": "text/plain", "data": wrapped}
    data = edited(referral_data, "attachments", [attachment])
    assert errors_of(data) == [
        ("attachments[0].filename", "filename_format"),
        ("attachments[0].data", "content_mismatch"),
    ]


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        ("zd_number", "ZD1", ("zd_number", "zd_number_format")),
        ("patient.gender", "X", ("patient.gender", "allowed_values")),
        ("care_question.text", "", ("care_question.text", "blank")),
    ],
)
def test_birth_date_after_the_event_with_a_field_error_anywhere(
    referral_data: dict[str, Any], path: str, value: object, error: tuple[str, str]
) -> None:
    data = edited(edited(referral_data, "patient.birth_date", "2026-11-21"), path, value)
    assert errors_of(data) == [error, ("patient.birth_date", "birth_date_after_created_at")]


def test_birth_date_compared_with_the_date_created_at_has_where_it_was_made(
    referral_data: dict[str, Any],
) -> None:
    # 00:30 at +01:00 is the day before in UTC; the event's own date is the one compared.
    data = _apply(referral_data, {"created_at": "2026-11-21T00:30:00+01:00", "zd_number": "ZD1"})
    assert errors_of(_apply(data, {"patient.birth_date": "2026-11-21"})) == [
        ("zd_number", "zd_number_format")
    ]
    assert errors_of(_apply(data, {"patient.birth_date": "2026-11-22"})) == [
        ("zd_number", "zd_number_format"),
        ("patient.birth_date", "birth_date_after_created_at"),
    ]


@pytest.fixture(scope="module")
def pdf_at_limit() -> str:
    return _b64(PDF + b"\0" * (MAX_ATTACHMENT_BYTES - len(PDF)))


def _attachments(*items: tuple[str, str], bad_filename: bool = False) -> list[dict[str, str]]:
    return [
        {
            "filename": "../x" if bad_filename and n == 0 else f"bijlage{n}.pdf",
            "content_type": content_type,
            "data": encoded,
        }
        for n, (content_type, encoded) in enumerate(items)
    ]


def test_attachments_total_with_a_field_error(
    referral_data: dict[str, Any], pdf_at_limit: str
) -> None:
    items = _attachments(*[("application/pdf", pdf_at_limit)] * 3, bad_filename=True)
    data = _apply(referral_data, {"attachments": items})
    assert errors_of(data) == [
        ("attachments[0].filename", "filename_format"),
        ("attachments", "attachments_total_too_large"),
    ]


def test_attachments_total_beside_content_that_is_not_its_type(
    referral_data: dict[str, Any], pdf_at_limit: str
) -> None:
    # The data of a mismatched attachment is valid base64 of a known size: it still counts.
    items = _attachments(*[("image/png", pdf_at_limit)] + [("application/pdf", pdf_at_limit)] * 2)
    assert errors_of(_apply(referral_data, {"attachments": items})) == [
        ("attachments[0].data", "content_mismatch"),
        ("attachments", "attachments_total_too_large"),
    ]


def test_both_envelope_rules_at_once(referral_data: dict[str, Any], pdf_at_limit: str) -> None:
    # One validator holds both and stops at the first; the second is told in the same answer.
    items = _attachments(*[("application/pdf", pdf_at_limit)] * 3)
    data = _apply(referral_data, {"attachments": items, "patient.birth_date": "2027-01-01"})
    assert errors_of(data) == [
        ("attachments", "attachments_total_too_large"),
        ("patient.birth_date", "birth_date_after_created_at"),
    ]


def test_question_rules_need_no_deferring(referral_data: dict[str, Any]) -> None:
    # They are field validators, run in the same pass as the other fields of the question.
    data = _apply(referral_data, {"questions[0].title": " ", "questions[0].answer": None})
    data = _apply(data, {"questions[1].hint": "x", "questions[1].answer": ["binnen 2 jaar"]})
    assert errors_of(data) == [
        ("questions[0].title", "blank"),
        ("questions[0].answer", "answer_required"),
        ("questions[1].answer", "answer_not_in_options"),
        ("questions[1].…", "unknown_field"),
    ]


def test_a_diagnostic_request_is_judged_the_same(diagnostic_request_data: dict[str, Any]) -> None:
    data = _apply(
        diagnostic_request_data, {"tests[0].code": "", "patient.birth_date": "2099-01-01"}
    )
    assert errors_of(data) == [
        ("tests[0].code", "blank"),
        ("patient.birth_date", "birth_date_after_created_at"),
    ]


# --- The order ---------------------------------------------------------------------------------


def test_deferred_errors_follow_pydantics_in_the_order_their_validators_run(
    referral_data: dict[str, Any],
) -> None:
    data = _apply(
        referral_data,
        {
            "patient.name.name_usage": "partner",
            "patient.name.family": "",
            "patient.bsn": DELETE,
            "patient.address": DELETE,
            "patient.gender": "X",
            "patient.birth_date": "2027-01-01",
            "referrer.name.name_usage": "own_partner",
            "referrer.name.family": "",
            "attachments[0].content_type": "image/png",
            "attachments[0].filename": "../x",
        },
    )
    address = {"street": "", "house_number": 1, "postcode": "0123 AB", "city": "Utrecht"}
    data = edited(data, ORGANISATION_ADDRESS, address)
    assert errors_of(data) == [
        # pydantic's, in its order
        ("patient.name.family", "blank"),
        ("patient.gender", "allowed_values"),
        ("referrer.name.family", "blank"),
        (f"{ORGANISATION_ADDRESS}.street", "blank"),
        ("attachments[0].filename", "filename_format"),
        # deferred: a model's rule after those inside it, the envelope's last
        ("patient.name.partner_family", "partner_family_required"),
        ("patient", "bsn_or_address"),
        ("referrer.name.partner_family", "partner_family_required"),
        (f"{ORGANISATION_ADDRESS}.postcode", "postcode_format"),
        ("attachments[0].data", "content_mismatch"),
        ("patient.birth_date", "birth_date_after_created_at"),
    ]


def test_an_error_pydantic_reported_is_not_repeated(referral_data: dict[str, Any]) -> None:
    # The name's own validator ran (its fields are valid) and reported; the patient's did not.
    data = _apply(referral_data, {"patient.name.name_usage": "partner", "patient.gender": "X"})
    assert errors_of(data) == [
        ("patient.name.partner_family", "partner_family_required"),
        ("patient.gender", "allowed_values"),
    ]


# --- No derived errors, no spurious ones --------------------------------------------------------


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        # an input that broke its own rule is not judged again by a cross-field rule
        ({"patient.birth_date": "2030-13-01"}, [("patient.birth_date", "date_format")]),
        ({"patient.birth_date": 20300101}, [("patient.birth_date", "date_format")]),
        (
            {"patient.birth_date": "2030-01-01", "created_at": "2026-11-20T09:15:00"},
            [("created_at", "timezone_required")],
        ),
        (
            {"patient.birth_date": "2030-01-01", "created_at": DELETE},
            [("created_at", "required")],
        ),
        (
            {"patient.name.name_usage": "maiden", "patient.name.family": ""},
            [("patient.name.family", "blank"), ("patient.name.name_usage", "allowed_values")],
        ),
        (
            {"patient.name.name_usage": "partner", "patient.name.partner_family": 7},
            [("patient.name.partner_family", "type")],
        ),
        (
            {"patient.name.name_usage": "partner", "patient.name.partner_family": "V" * 1001},
            [("patient.name.partner_family", "text_too_long")],
        ),
        (
            {"patient.address.country": "nl", "patient.address.postcode": "0234 XY"},
            [("patient.address.country", "country_format")],
        ),
        (
            {"patient.address.postcode": " ", "patient.address.city": ""},
            [("patient.address.postcode", "blank"), ("patient.address.city", "blank")],
        ),
        (
            {"patient.bsn": "123456789", "patient.address": DELETE},
            [("patient.bsn", "bsn_eleven_test")],
        ),
        (
            {"patient.bsn": None, "patient.address": {"street": "Laan"}},
            [
                ("patient.address.house_number", "required"),
                ("patient.address.postcode", "required"),
                ("patient.address.city", "required"),
            ],
        ),
        (
            {"attachments[0].content_type": "text/html", "attachments[0].data": _b64(PNG)},
            [("attachments[0].content_type", "allowed_values")],
        ),
        (
            {"attachments[0].data": "JVBERi0x!!", "attachments[0].filename": "a/b"},
            [("attachments[0].filename", "filename_format"), ("attachments[0].data", "base64")],
        ),
        (
            {"questions[0].answer": "ja", "questions[0].required": "yes"},
            [("questions[0].required", "type"), ("questions[0].answer", "answer_type")],
        ),
    ],
)
def test_a_value_that_broke_its_own_rule_gives_no_derived_error(
    referral_data: dict[str, Any], edits: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert errors_of(_apply(referral_data, edits)) == expected


def test_field_errors_alone_get_nothing_added(referral_data: dict[str, Any]) -> None:
    data = _apply(
        referral_data,
        {
            "zd_number": "ZD1",
            "patient.bsn": "12",
            "patient.name.initials": 3,
            "patient.address.street": "",
            "referrer.agb": "1",
            "attachments[0].filename": "..",
            "letter.reason": " ",
        },
    )
    assert errors_of(data) == [
        ("zd_number", "zd_number_format"),
        ("patient.bsn", "bsn_format"),
        ("patient.name.initials", "type"),
        ("patient.address.street", "blank"),
        ("referrer.agb", "agb_format"),
        ("attachments[0].filename", "filename_format"),
        ("letter.reason", "blank"),
    ]


def test_a_body_refused_as_a_whole_gets_nothing_added() -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_event('{"type": "referral", "patient": {')
    assert {error.rule for error in caught.value.errors}.isdisjoint(DEFERRED_RULES)


def _rules_named(body: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(EventValidationError) as caught:
        parse_event(json.dumps(body))
    return {(error.path, error.rule) for error in caught.value.errors}


@pytest.mark.parametrize(
    "body",
    [
        {"type": "prescription", "patient": {"birth_date": "x"}},
        {"type": ["referral"], "patient": {}},
        {"patient": {"name": {"family": ""}}},
        {"type": "verwijzing", "patient": {"insurance": {"uzovi": "33111"}}},
    ],
)
def test_a_body_no_type_chose_gets_the_cross_field_rules_every_type_breaks(
    body: dict[str, Any],
) -> None:
    """Its fields are judged as each type's (``parse._whatever_the_type``): the cross-field
    rules every type breaks alike are named after the type, as pydantic's field rules are, and
    none that only one type breaks. A field error beside them (a bad UZOVI) changes nothing:
    the patient with neither BSN nor address was named with a wrong type alone, and not with
    a wrong type and a bad UZOVI (found by a support walkthrough)."""
    typed = [_rules_named({**body, "type": t}) for t in ("referral", "diagnostic_request")]
    alike = {named for named in typed[0] & typed[1] if named[1] in DEFERRED_RULES}
    named = _rules_named(body)
    assert {n for n in named if n[1] in DEFERRED_RULES} == alike
    assert ("patient", "bsn_or_address") in alike


def test_a_memoryview_body_is_judged_too(referral_data: dict[str, Any]) -> None:
    data = _apply(
        referral_data, {"patient.bsn": DELETE, "patient.address": DELETE, "zd_number": "ZD1"}
    )
    with pytest.raises(EventValidationError) as caught:
        parse_event(memoryview(json.dumps(data).encode()))
    assert [(e.path, e.rule) for e in caught.value.errors] == [
        ("zd_number", "zd_number_format"),
        ("patient", "bsn_or_address"),
    ]


def test_deferred_errors_never_carry_the_input(referral_data: dict[str, Any]) -> None:
    data = _apply(
        referral_data,
        {
            "patient.address.postcode": "0234 XY",
            "patient.address.street": "",
            "patient.birth_date": "2031-02-03",
            "patient.gender": "Vrouw",
        },
    )
    with pytest.raises(EventValidationError) as caught:
        parse_event(json.dumps(data))
    assert ("patient.address.postcode", "postcode_format") in [
        (e.path, e.rule) for e in caught.value.errors
    ]
    text = str(caught.value) + json.dumps(caught.value.to_json()) + repr(caught.value.errors)
    for value in ("0234", "XY", "2031", "Vrouw"):
        assert value not in text
    assert caught.value.__cause__ is None and caught.value.__context__ is None


# --- The accepted path -------------------------------------------------------------------------


def test_a_valid_event_never_reaches_the_deferred_checks(
    referral_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    class Spy:
        def errors(self, *args: object) -> tuple[()]:
            calls.append(args)
            return ()

    expected = parse_both(referral_data)
    monkeypatch.setattr(schemas.parse, "_DEFERRED", Spy())
    assert parse_both(referral_data) == expected
    assert parse_event(json.dumps(referral_data)) == expected
    assert calls == []


# --- The checks and the validators stay together ------------------------------------------------


def _models(*roots: type[BaseModel]) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    todo = list(roots)
    while todo:
        model = todo.pop()
        if model in found:
            continue
        found.add(model)
        for info in model.model_fields.values():
            todo.extend(_named(info.annotation))
    return found


def _named(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation mentions, however deep in unions and tuples."""
    result: list[type[BaseModel]] = []
    todo = [annotation]
    while todo:
        annotation = todo.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            result.append(annotation)
        todo.extend(getattr(annotation, "__args__", ()))
    return result


def _own_after_validators(model: type[BaseModel]) -> list[Any]:
    return [
        decorator
        for decorator in model.__pydantic_decorators__.model_validators.values()
        if decorator.info.mode == "after" and decorator.cls_var_name in vars(model)
    ]


def test_every_model_with_a_cross_field_rule_has_a_deferred_check() -> None:
    defining = {
        base
        for model in _models(Referral, DiagnosticRequest)
        for base in model.__mro__
        if issubclass(base, BaseModel) and _own_after_validators(base)
    }
    assert defining == set(_CHECKS)


def test_the_deferred_rules_are_the_rules_the_validators_raise() -> None:
    raised = set()
    for model in _CHECKS:
        for decorator in _own_after_validators(model):
            source = inspect.getsource(decorator.func)
            raised |= set(re.findall(r'rule_error\(\s*"(\w+)"', source))
    assert raised == DEFERRED_RULES


# --- Property: one round agrees with the model validator ----------------------------------------
#
# For an event X varying only the inputs of one cross-field rule, and a field error U elsewhere
# in the same model (which makes pydantic skip that model's validators), the errors of X with U
# are the errors of X, where the validator did run, and U: no rule lost, none added.

_FAMILY = st.sampled_from([DELETE, None, "", "  ", "\u2003", "\x1c", "Vries", " de Vries ", 42])
_NAMES = st.fixed_dictionaries(
    {
        "patient.name.name_usage": st.sampled_from(
            [DELETE, "own", "partner", "partner_own", "own_partner", "maiden", None]
        ),
        "patient.name.partner_family": _FAMILY,
    }
)
_POSTCODES = st.one_of(
    st.sampled_from(["1234 AB", "1234ab", "0123 AB", "1234 SS", " 9999 zz ", "", None, 1234]),
    st.from_regex(r"[0-9A-Za-z \t]{0,8}", fullmatch=True),
)
_ADDRESSES = st.fixed_dictionaries(
    {
        "patient.address.country": st.sampled_from(
            [DELETE, "NL", "BE", "DE", "nl", " NL ", "", None, "XX"]
        ),
        "patient.address.postcode": _POSTCODES,
    }
)
_VALID_ADDRESS = {"street": "Laan", "house_number": 1, "postcode": "1234 AB", "city": "Utrecht"}
_IDENTIFICATION = st.fixed_dictionaries(
    {
        "patient.bsn": st.sampled_from(
            [DELETE, None, "", "  ", "999990019", "123456789", 999990019, "12"]
        ),
        "patient.address": st.sampled_from(
            [DELETE, None, _VALID_ADDRESS, {**_VALID_ADDRESS, "street": ""}, "Laan 1"]
        ),
    }
)
_CONTENT = st.sampled_from([PDF, PNG, JPEG, TEXT, b"\xff\xfe\x00bad", b"<html>%PDF-"])
_ATTACHMENTS = st.fixed_dictionaries(
    {
        "attachments[0].content_type": st.sampled_from(
            ["application/pdf", "image/png", "image/jpeg", "text/plain", "text/html", None]
        ),
        "attachments[0].data": st.one_of(
            _CONTENT.map(_b64),
            _CONTENT.map(lambda content: base64.encodebytes(content).decode("ascii")),
            st.sampled_from(["JVBERi0x!!", "", 12]),
        ),
    }
)
_OFFSETS = st.sampled_from(["Z", "+01:00", "-04:00", "+14:00", "-12:00"])
_CREATED = st.builds(
    lambda moment, offset: moment.strftime("%Y-%m-%dT%H:%M:%S") + offset,
    st.datetimes(datetime.datetime(1990, 1, 1), datetime.datetime(2030, 12, 31)),
    _OFFSETS,
)
_DATES = st.dates(datetime.date(1989, 12, 25), datetime.date(2031, 1, 5)).map(str)
_BIRTH = st.fixed_dictionaries(
    {
        "patient.birth_date": st.one_of(_DATES, st.sampled_from(["1990-13-45", "", None])),
        "created_at": st.one_of(_CREATED, st.sampled_from(["2026-11-20T09:15:00", "gisteren"])),
    }
)

# Per rule: its inputs, and field errors U in its model (any field error skips the envelope's).
_CASES: dict[str, tuple[st.SearchStrategy[dict[str, Any]], list[dict[str, Any]]]] = {
    "partner_name": (_NAMES, [{"patient.name.family": ""}, {"patient.name.initials": 1}]),
    "dutch_postcode": (_ADDRESSES, [{"patient.address.city": ""}, {"patient.address.x": 1}]),
    "identifiable": (_IDENTIFICATION, [{"patient.gender": "X"}, {"patient.phone": []}]),
    "declared_type": (
        _ATTACHMENTS,
        [{"attachments[0].filename": ".."}, {"attachments[0].description": 5}],
    ),
    "birth_date": (
        _BIRTH,
        [{"zd_number": "ZD1"}, {"patient.gender": "X"}, {"letter.reason": ""}],
    ),
}


def _errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        parse_both(data)
    except EventValidationError:
        return errors_of(data)
    return []


@pytest.mark.parametrize("rule", sorted(_CASES))
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_one_round_agrees_with_the_model_validator(
    referral_data: dict[str, Any], rule: str, data: st.DataObject
) -> None:
    inputs, field_errors = _CASES[rule]
    event = _apply(referral_data, data.draw(inputs, label="inputs"))
    with_field_error = _apply(event, data.draw(st.sampled_from(field_errors), label="U"))
    alone = _errors(event)
    together = errors_of(with_field_error)
    field_error = set(together) - set(alone)
    assert len(field_error) == 1, (alone, together)
    assert set(together) == set(alone) | field_error
