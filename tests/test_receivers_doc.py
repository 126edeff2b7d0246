"""docs/receivers.md, the hospital interface team's guide, held to the code it describes.

A hospital configures its interface engine from that page once and rarely reads the code, so
what the page states where the code can say it too is checked here: the message versions and
their wire facts against the registry, the ACK codes and what each does against the ACK reader,
the MLLP framing bytes and the destination defaults against their constants, the example
messages against what the mapping makes of the test message's event, the example ACK against
what ``integrator receiver`` answers, and the example destination file against the file rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from destinations.ack import ACK_CODES, Ack, AckOutcome, classify_ack, codec_for, parse_ack
from destinations.config import MAX_CONNECTIONS, DestinationConfig, destination_from_text
from destinations.mllp import END, START
from destinations.receiver import build_ack
from integrator.testmessage import synthetic_event
from mappings import REGISTRY, MappingContext, get_version, map_event

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "receivers.md"

_FENCE = re.compile(r"^```(\w*)\s*$")
_ROW = re.compile(r"^\|(.*)\|\s*$")


def _text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _blocks(text: str, language: str) -> list[list[str]]:
    """The lines of every fenced code block tagged ``language``, in order."""
    blocks: list[list[str]] = []
    fence: str | None = None  # the language of the block we are in; None: outside any
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence is None:
            if opening is not None:
                fence = opening.group(1)
                if fence == language:
                    blocks.append([])
        elif line.startswith("```"):
            fence = None
        elif fence == language:
            blocks[-1].append(line)
    return blocks


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` (a whole heading line) up to the next heading of any level."""
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = next(
        (i for i in range(start, len(lines)) if lines[i].startswith("#")),
        len(lines),
    )
    return "\n".join(lines[start:end])


def _rows(section: str) -> list[list[str]]:
    """The cells of each table row in ``section`` (header and separator rows included)."""
    rows: list[list[str]] = []
    for line in section.splitlines():
        match = _ROW.match(line.strip())
        if match:
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", match.group(1))])
    return rows


def _keyed_rows(section: str) -> dict[str, list[str]]:
    """The table rows of ``section`` whose first cell is one backticked value, by that value."""
    keyed: dict[str, list[str]] = {}
    for row in _rows(section):
        key = _code(row[0])
        if key is not None:
            keyed[key] = row
    return keyed


def _code(cell: str) -> str | None:
    """The value of a cell that is one backticked value, else None."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    return match.group(1) if match else None


# -- the message versions ---------------------------------------------------------------------


def test_every_version_of_the_registry_is_named() -> None:
    text = _text()
    missing = [name for name in REGISTRY if f"`{name}`" not in text]
    assert not missing, f"docs/receivers.md does not name the version(s) {missing}"


def test_the_version_table_says_what_the_registry_says() -> None:
    rows = _keyed_rows(_section(_text(), "### Message versions"))
    assert set(rows) == set(REGISTRY), "the version table has a row for each version, no other"
    for name, row in rows.items():
        version = REGISTRY[name]
        _, _, hl7, msh9, msh18, *_ = row
        assert hl7 == version.hl7_version, f"{name}: HL7 {hl7}, registry {version.hl7_version}"
        assert f"`{version.message_type_new}`" in msh9, f"{name}: MSH-9 for a new: {msh9}"
        assert f"`{version.message_type_cancel}`" in msh9, f"{name}: MSH-9 for a cancel: {msh9}"
        assert msh18 == f"`{version.charset}`", f"{name}: MSH-18 {msh18}, not {version.charset}"


def test_every_sunset_is_named_with_its_date() -> None:
    text = _text()
    for version in REGISTRY.values():
        if version.sunset is not None:
            assert version.sunset.isoformat() in text, (
                f"{version.name}: its sunset {version.sunset} is not in docs/receivers.md"
            )


# -- the acknowledgements ---------------------------------------------------------------------

_OUTCOME_WORDS = {
    AckOutcome.DELIVERED: "delivered",
    AckOutcome.RETRY: "retried",
    AckOutcome.DEADLETTER: "dead letter",
}


def test_every_ack_code_has_a_row_saying_what_it_does_by_default() -> None:
    rows = {
        code: row[1]
        for code, row in _keyed_rows(_section(_text(), "### What each code does")).items()
    }
    assert set(rows) == set(ACK_CODES), f"the code table names {sorted(rows)}"
    for code, said in rows.items():
        ack = Ack(code=code, control_id="X", text="", error="", raw=b"")
        outcome = classify_ack(ack, "X")  # the destination file's defaults
        assert said.startswith(_OUTCOME_WORDS[outcome]), (
            f"MSA-1 {code}: the guide says {said!r}; the engine's default is {outcome.value}"
        )


# -- framing and the destination's defaults ---------------------------------------------------


def test_the_framing_bytes_are_the_clients() -> None:
    text = _text()
    start = f"`0x{START.hex().upper()}`"
    end = "`" + " ".join(f"0x{byte:02X}" for byte in END) + "`"
    assert start in text and end in text, f"docs/receivers.md names {start} and {end}"


def test_the_timeouts_and_connections_are_the_defaults() -> None:
    text = _text()
    timeouts = _keyed_rows(_section(text, "### Timeouts"))
    rows = {key: _code(row[1]) for key, row in timeouts.items()}
    fields = DestinationConfig.model_fields
    for key in ("connect_timeout", "ack_timeout"):
        default = fields[key].default
        assert rows.get(key) == f"{default:g}s", f"{key}: the guide says {rows.get(key)}"
    connections = fields["connections"].default
    said = f"`connections` (default {connections}, at most {MAX_CONNECTIONS})"
    assert said in text, f"docs/receivers.md does not say {said}"


# -- the examples -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Example:
    lines: list[str]

    @property
    def msh(self) -> list[str]:
        """MSH split so that ``msh[n]`` is MSH-n (MSH-1 is the separator itself)."""
        return ["", "|", *self.lines[0].split("|")[1:]]

    def field(self, n: int) -> str:
        msh = self.msh
        return msh[n] if n < len(msh) else ""

    @property
    def is_ack(self) -> bool:
        return any(line.startswith("MSA|") for line in self.lines)

    @property
    def data(self) -> bytes:
        codec = codec_for(self.field(18)) or "utf-8"
        return "".join(line + "\r" for line in self.lines).encode(codec)


def _examples() -> list[_Example]:
    examples = [_Example(lines) for lines in _blocks(_text(), "hl7")]
    assert examples, "docs/receivers.md shows no hl7 example"
    for example in examples:
        assert example.lines and example.lines[0].startswith("MSH|^~\\&|"), example.lines[:1]
    return examples


def _time(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S%z")


def _made(example: _Example) -> list[str]:
    """What the mapping makes of the test message's event, with the example's MSH values."""
    version = get_version(example.field(21))
    now = _time(example.field(7))
    event = synthetic_event(version.event_type, now)
    cancel = example.field(9) == version.message_type_cancel != version.message_type_new or any(
        line.startswith("ORC|CA|") for line in example.lines
    )
    if cancel:
        event = event.model_copy(update={"action": "cancel"})
    enhanced = bool(example.field(15) or example.field(16))
    processing = example.field(11)
    assert processing in ("P", "T"), f"MSH-11 {processing!r}"
    context = MappingContext(
        control_id=example.field(10),
        now=now,
        sending_application=example.field(3),
        sending_facility=example.field(4),
        receiving_application=example.field(5),
        receiving_facility=example.field(6),
        processing_id="T" if processing == "T" else "P",
        ack_mode="enhanced" if enhanced else "original",
        **(
            {"accept_ack_type": example.field(15), "application_ack_type": example.field(16)}
            if enhanced
            else {}
        ),
    )
    text = map_event(version.name, event, context).text
    return text.rstrip("\r").split("\r")


def test_the_example_messages_are_what_the_engine_sends() -> None:
    messages = [example for example in _examples() if not example.is_ack]
    assert messages, "docs/receivers.md shows no example message"
    for example in messages:
        assert example.lines == _made(example), (
            f"the {example.field(21)} example in docs/receivers.md is not what the mapping "
            "makes of the test message's event; copy it from the mapping again"
        )


def test_control_ids_of_the_example_messages_differ() -> None:
    ids = [example.field(10) for example in _examples() if not example.is_ack]
    assert len(ids) == len(set(ids)), f"one MSH-10 for two example messages: {ids}"


def test_the_example_acks_answer_an_example_message_as_the_receiver_does() -> None:
    examples = _examples()
    by_control_id = {e.field(10): e for e in examples if not e.is_ack}
    acks = [example for example in examples if example.is_ack]
    assert acks, "docs/receivers.md shows no example ACK"
    for example in acks:
        ack = parse_ack(example.data)
        answered = by_control_id.get(ack.control_id)
        assert answered is not None, f"MSA-2 {ack.control_id!r} answers no example message"
        classify_ack(ack, answered.field(10))  # raises when MSA-2 does not match
        if all(line[:4] in ("MSH|", "MSA|") for line in example.lines):
            built = build_ack(
                answered.data,
                ack.code,
                text=ack.text,
                now=_time(example.field(7)),
                control_id=example.field(10),
            )
            codec = codec_for(example.field(18)) or "utf-8"
            assert built.decode(codec).rstrip("\r").split("\r") == example.lines, (
                "the example ACK is not what `integrator receiver` answers"
            )


def test_the_example_destination_files_pass_the_file_rules() -> None:
    blocks = _blocks(_text(), "yaml")
    assert blocks, "docs/receivers.md shows no destination file"
    today = date.today()
    for lines in blocks:
        config = destination_from_text("docs/receivers.md", "\n".join(lines) + "\n")
        for version in config.messages.values():
            assert get_version(version).status_on(today) != "retired", (
                f"the example destination {config.id} uses {version}, retired"
            )


@pytest.mark.parametrize(
    ("heading"),
    ["### Message versions", "### What each code does", "### Timeouts"],
)
def test_the_checked_sections_are_there(heading: str) -> None:
    assert heading in _text().splitlines(), f"docs/receivers.md has no heading {heading!r}"
