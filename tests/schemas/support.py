"""Helpers for the schema tests: edit a sample by path, collect the errors it produces."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from schemas import DiagnosticRequest, EventValidationError, Referral, parse_event

DELETE = object()
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _PART.findall(path)]


def edited(data: dict[str, Any], path: str, value: Any = DELETE) -> dict[str, Any]:
    """A deep copy of `data` with the value at `path` (like `questions[0].answer`) replaced
    or, with the default, removed."""
    result = copy.deepcopy(data)
    *parents, last = _parts(path)
    node: Any = result
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return result


def parse_both(data: dict[str, Any]) -> Referral | DiagnosticRequest:
    """Parse as a mapping and as JSON bytes; both routes must agree."""
    from_mapping = parse_event(data)
    from_json = parse_event(json.dumps(data).encode())
    assert from_mapping == from_json
    return from_json


def errors_of(data: Any) -> list[tuple[str, str]]:
    """(path, rule) of every error; as a mapping and as JSON text, which must agree."""
    with pytest.raises(EventValidationError) as from_json:
        parse_event(json.dumps(data))
    if isinstance(data, dict):
        with pytest.raises(EventValidationError) as from_mapping:
            parse_event(data)
        assert from_mapping.value.errors == from_json.value.errors
    return [(error.path, error.rule) for error in from_json.value.errors]


def single_error(data: Any) -> tuple[str, str]:
    errors = errors_of(data)
    assert len(errors) == 1, errors
    return errors[0]
