"""A key given twice in one JSON object is refused: parsers keep the last (pydantic's does) or
the first, so an event with two ``bsn`` keys could name one patient upstream and another here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from schemas import EventValidationError, parse_event

SECOND_BSN = "111222333"  # passes the eleven-test too: nothing else would refuse it


def refusal(body: str) -> list[tuple[str, str]]:
    """(path, rule) of each error, the body given as text and as bytes (the two must agree)."""
    with pytest.raises(EventValidationError) as as_text:
        parse_event(body)
    with pytest.raises(EventValidationError) as as_bytes:
        parse_event(body.encode())
    assert as_text.value.errors == as_bytes.value.errors
    return [(e.path, e.rule) for e in as_text.value.errors]


def twice(data: dict[str, Any], after: str, key: str, value: Any) -> str:
    """``data`` as JSON with ``"key": value`` written once more just before ``after``'s key."""
    body = json.dumps(data)
    marker = json.dumps(after) + ":"
    assert body.count(marker) == 1, after
    return body.replace(marker, f"{json.dumps(key)}: {json.dumps(value)}, {marker}")


def test_a_bsn_given_twice_is_refused_naming_its_place(referral_data: dict[str, Any]) -> None:
    body = twice(referral_data, "bsn", "bsn", SECOND_BSN)
    assert refusal(body) == [("patient.bsn", "duplicate_key")]
    with pytest.raises(EventValidationError) as refused:
        parse_event(body)
    assert SECOND_BSN not in str(refused.value) and referral_data["patient"]["bsn"] not in str(
        refused.value
    )


def test_a_key_twice_in_a_list_item_is_named_with_its_index(
    referral_data: dict[str, Any],
) -> None:
    question = referral_data["questions"][0]
    data = {**referral_data, "questions": [question, {**question, "id": "q-second"}]}
    body = json.dumps(data)
    second = body.rindex('"id": "q-second"')
    body = body[:second] + '"id": "q-third", ' + body[second:]
    assert refusal(body) == [("questions[1].id", "duplicate_key")]


def test_an_unknown_key_given_twice_is_not_repeated(referral_data: dict[str, Any]) -> None:
    """A key the schema does not have may be data sent as a key (a name): withheld, as an
    unknown key is."""
    body = twice(referral_data, "bsn", "Jansen", 1).replace(
        '"Jansen": 1', '"Jansen": 1, "Jansen": 2'
    )
    [(path, rule)] = refusal(body)
    assert rule == "duplicate_key" and "Jansen" not in path and path.startswith("patient.")


def test_the_same_key_in_two_objects_is_no_duplicate(referral_data: dict[str, Any]) -> None:
    assert parse_event(json.dumps(referral_data).encode()).patient.bsn is not None


def test_text_that_is_no_json_is_still_named_as_such() -> None:
    assert refusal('{"a": 1, "a": ') == [("$", "json_syntax")]
