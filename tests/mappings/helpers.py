"""Shared test helpers: a fixed mapping context, reading messages back, structure checks."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any, Final

import hl7
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from pydantic import BaseModel

from mappings import MappedMessage, MappingContext

GOLDEN: Final = Path(__file__).resolve().parent / "golden"
CET: Final = datetime.timezone(datetime.timedelta(hours=1))
NOW: Final = datetime.datetime(2026, 11, 20, 9, 16, 30, tzinfo=CET)
CONTROL_ID: Final = "INT00000000000000001"  # 20 characters, the longest allowed
CODECS: Final = {"UNICODE UTF-8": "utf-8", "8859/1": "latin-1"}


def context(**overrides: Any) -> MappingContext:
    values: dict[str, Any] = {
        "control_id": CONTROL_ID,
        "now": NOW,
        "receiving_application": "HIS",
        "receiving_facility": "ZNOORD",
    }
    values.update(overrides)
    return MappingContext(**values)


def read_back(mapped: MappedMessage) -> hl7.Message:
    """Parse the wire bytes the way a receiver does: decode by MSH-18, then python-hl7."""
    charset = mapped.text.split("\r", 1)[0].split("|")[17]
    return hl7.parse(mapped.data.decode(CODECS[charset]))


def value(message: hl7.Message, key: str) -> str:
    """One unescaped value by python-hl7 accessor key, e.g. `PID.F5.R1.C1.S3`, `OBX2.F5`."""
    result = message[key]
    assert isinstance(result, str), key
    return result


def segment_names(text: str) -> list[str]:
    assert text.endswith("\r"), "every segment, the last included, ends with CR"
    return [line[:3] for line in text[:-1].split("\r")]


def shape(message: hl7.Message) -> list[tuple[str, int]]:
    """Segment names with their field counts: what no text value may ever change."""
    return [(str(segment[0]), len(segment)) for segment in message]


def grammar(text: str, pattern: str) -> bool:
    """Match the segment sequence against a regular expression over `NAME ` tokens.

    hl7apy drops segments it does not expect and does not check order, so structure is
    checked here too.
    """
    return re.fullmatch(pattern, " ".join(segment_names(text)) + " ") is not None


def hl7apy_segments(text: str) -> tuple[Any, list[str]]:
    """Parse with hl7apy (tolerant) and list the segment names it kept, in order."""
    parsed = parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=True)
    names: list[str] = []

    def walk(element: Any) -> None:
        for child in element.children:
            if child.classname == "Segment":
                names.append(child.name)
            else:
                walk(child)

    walk(parsed)
    return parsed, names


def replace_at(model: BaseModel, path: tuple[str | int, ...], new: Any) -> Any:
    """A copy of a frozen model with the value at `path` replaced, skipping validation on
    purpose: the writer must be safe for any text, not only for text the schema allows."""
    head, *rest = path
    assert isinstance(head, str)
    current = getattr(model, head)
    if not rest:
        return model.model_copy(update={head: new})
    if isinstance(rest[0], int):
        index, *deeper = rest
        assert isinstance(index, int)
        items = list(current)
        items[index] = replace_at(items[index], tuple(deeper), new) if deeper else new
        return model.model_copy(update={head: tuple(items)})
    return model.model_copy(update={head: replace_at(current, tuple(rest), new)})


# Values the mappers look up in their own tables (or base64): not free text.
_CODES: Final = frozenset({"answer_type", "name_usage", "content_type", "data"})
_EVENT_CODES: Final = frozenset({"type", "action", "priority"})


def text_paths(model: BaseModel, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every free text in `model` (for `replace_at`)."""
    paths: list[tuple[str | int, ...]] = []
    for name in type(model).model_fields:
        item = getattr(model, name)
        items = list(enumerate(item)) if isinstance(item, tuple) else [(None, item)]
        for index, part in items:
            path = (*at, name) if index is None else (*at, name, index)
            if isinstance(part, BaseModel):
                paths.extend(text_paths(part, path))
            elif isinstance(part, str) and name not in (_EVENT_CODES if not at else _CODES):
                paths.append(path)
    return paths


# version -> (event type, message structure, HL7 version, MSH-18 codec)
VERSIONS: Final = {
    "ref-v1": ("referral", "REF_I12", "2.4", "latin-1"),
    "ref-v2": ("referral", "REF_I12", "2.5.1", "utf-8"),
    "orm-lfdv2": ("diagnostic_request", "ORM_O01", "2.4", "latin-1"),
    "orm-v3": ("diagnostic_request", "ORM_O01", "2.5.1", "utf-8"),
    "oml-v3": ("diagnostic_request", "OML_O21", "2.5.1", "utf-8"),
}
REFERRAL_VERSIONS: Final = [v for v, facts in VERSIONS.items() if facts[0] == "referral"]
ORDER_VERSIONS: Final = [v for v, facts in VERSIONS.items() if facts[0] != "referral"]
