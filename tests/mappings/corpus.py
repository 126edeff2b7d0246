"""A corpus of mapping inputs, drawn from a seeded `random.Random` (no hypothesis), so the same
seed gives the same events, contexts and versions in any tree and with any library version.

What it holds: the samples and their variants (cancelled, full, maximal), then events made
from them with texts replaced (unvalidated, by `replace_at`) by texts of widths around every
length limit, in ASCII, Latin-1 with the HL7 delimiters, text outside Latin-1 (transliterated
in the 8859/1 versions), and control characters, line breaks and HL7's `""`; optional values
left out; in several contexts (settings with delimiters, over-long settings, enhanced
acknowledgements, odd UTC offsets) and every registered version, including those that refuse
the event. `outcome` is what mapping gives, as text to compare: every byte, every warning,
or the error's type and text.

`tests/mappings/test_corpus.py` checks a part of it against digests recorded from the mapping
code before segments were built from templates; `bench/map_corpus.py` records and checks the
whole of it (or more) across two trees.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal, TypedDict

from pydantic import BaseModel

from mappings import REGISTRY, MappingContext, MappingError, map_event
from schemas import DiagnosticRequest, Referral, parse_event
from tests.mappings import variants
from tests.mappings.helpers import replace_at, text_paths

TEST_SEED: Final = 1  # the corpus of `test_corpus.py`
SAMPLES: Final = Path(__file__).resolve().parents[2] / "config" / "samples"
Event = Referral | DiagnosticRequest

# Widths around the limits HL7 2.4 and 2.5.1 set on the parts texts reach (and 0: empty).
WIDTHS: Final = (
    *(0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25),
    *(29, 30, 31, 35, 36, 37, 49, 50, 51, 52, 53, 60, 61, 80, 81, 120, 121),
    *(194, 195, 198, 199, 200, 227, 228, 249, 250, 251, 400),
)
ALPHABETS: Final = {
    "ascii": "abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789 .-/",
    "latin1": "abcXYZ019 éëïöüÉçß°µ½|^~\\&",
    "utf8": "abcXYZ 09éłŁ€őĳ—…’“😀中ｘ＾",
    "controls": "ab \r\n\t\x00\x0b\x1c\x1f|^&~\\é€",
}


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def bases() -> list[Event]:
    """The samples and their variants, validated."""
    out: list[Event] = []
    for name, full in (
        ("referral", variants.full_referral),
        ("diagnostic_request", variants.full_diagnostic_request),
    ):
        data = sample(name)
        for variant in (data, variants.cancelled(data), full(data), variants.maximal(data)):
            event = parse_event(copy.deepcopy(variant))
            assert isinstance(event, Referral | DiagnosticRequest)
            out.append(event)
    return out


def optional_paths(model: BaseModel, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every value in `model` that may be absent (default None) and is not."""
    paths: list[tuple[str | int, ...]] = []
    for name, field in type(model).model_fields.items():
        item = getattr(model, name)
        if item is None:
            continue
        if field.default is None and not field.is_required():
            paths.append((*at, name))
        for index, part in enumerate(item) if isinstance(item, tuple) else [(None, item)]:
            if isinstance(part, BaseModel):
                path = (*at, name) if index is None else (*at, name, index)
                paths.extend(optional_paths(part, path))
    return paths


def random_text(rng: random.Random, width: int) -> str:
    alphabet = ALPHABETS[rng.choice(list(ALPHABETS))]
    if rng.random() < 0.05:
        return '""'
    if rng.random() < 0.3:  # one character repeated: widths exactly at a limit
        return rng.choice(alphabet) * width
    return "".join(rng.choice(alphabet) for _ in range(width))


def mutated(rng: random.Random, event: Event) -> Event:
    """`event` with 1 to 12 texts replaced and some optional values left out."""
    paths = text_paths(event)
    for path in rng.sample(paths, min(len(paths), rng.randint(1, 12))):
        event = replace_at(event, path, random_text(rng, rng.choice(WIDTHS)))
    for _ in range(rng.choice((0, 0, 1, 3))):
        optional = optional_paths(event)
        if optional:
            event = replace_at(event, rng.choice(optional), None)
    return event


class ContextSettings(TypedDict, total=False):
    """`MappingContext`'s settings besides `control_id` and `now`."""

    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    processing_id: Literal["P", "T"]
    ack_mode: Literal["original", "enhanced"]
    accept_ack_type: str
    application_ack_type: str
    platform_authority: str


_CET: Final = datetime.timezone(datetime.timedelta(hours=1))
CONTEXTS: Final[tuple[ContextSettings, ...]] = (
    {"receiving_application": "HIS", "receiving_facility": "ZNOORD"},
    {
        "sending_application": "A|B^C&D~E\\F",
        "sending_facility": "Fac é",
        "receiving_application": "X" * 21,
        "receiving_facility": "Ł€ő\r\n",
        "processing_id": "T",
        "ack_mode": "enhanced",
        "accept_ack_type": "ER",
        "application_ack_type": "AL",
        "platform_authority": "ZD&|",
    },
    {"sending_application": "", "receiving_application": "X" * 20, "platform_authority": "P"},
)
_NOWS: Final = (
    datetime.datetime(2026, 11, 20, 9, 16, 30, tzinfo=_CET),
    datetime.datetime(
        999, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=45))
    ),
    datetime.datetime(
        2031, 12, 31, 23, 59, 59, tzinfo=datetime.timezone(-datetime.timedelta(hours=3, minutes=30))
    ),
    datetime.datetime(2099, 6, 1, 0, 0, 0, tzinfo=datetime.UTC),  # past every sunset
)


def context(number: int, rng: random.Random) -> MappingContext:
    settings = CONTEXTS[number % len(CONTEXTS)]
    now = _NOWS[0] if rng.random() < 0.7 else rng.choice(_NOWS)
    control_id = "C" + str(rng.randrange(10**18))
    return MappingContext(control_id=control_id, now=now, **settings)


def cases(seed: int, count: int) -> Iterator[tuple[str, Event, MappingContext]]:
    """Every base event in every version and context, then `count` mutated events, each in a
    drawn context and a version of its type (one in twenty in any version)."""
    rng = random.Random(seed)
    start = bases()
    versions = sorted(REGISTRY)
    for event in start:
        for version in versions:
            for number in range(len(CONTEXTS)):
                yield version, event, context(number, rng)
    for number in range(count):
        event = mutated(rng, rng.choice(start))
        own = [name for name in versions if REGISTRY[name].event_type == event.type]
        version = rng.choice(versions if rng.random() < 0.05 else own)
        yield version, event, context(number, rng)


def outcome(version: str, event: Event, ctx: MappingContext) -> str:
    """What mapping gives, as text: the message's every attribute, or the error."""
    try:
        mapped = map_event(version, event, ctx)
    except MappingError as error:
        return f"error {type(error).__name__}: {error}"
    return repr(
        (
            mapped.version,
            mapped.control_id,
            mapped.message_type,
            mapped.skeleton,
            mapped.data,
            mapped.warnings,
            mapped.bulk,
            mapped.text,
        )
    )


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
