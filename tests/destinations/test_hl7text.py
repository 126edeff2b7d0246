"""Escaped HL7 text read back for people: the inverse of the mappers' escaping, for a screen."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from destinations.hl7text import unescape
from mappings.escape import escape, escape_ft

# What a GP types: any text but the C0 and C1 controls the escaping writes as hex, which
# ``unescape`` keeps as written (they could end an MLLP frame or move a terminal's cursor).
TYPED = st.text(
    st.characters(
        codec="utf-8",
        exclude_characters=[*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0))],
    )
    | st.sampled_from(["\n", "\t", "|", "^", "&", "~", "\\"]),
)


@given(st.lists(TYPED, max_size=8).map("".join))
def test_what_the_mappers_escape_reads_back_as_written(value: str) -> None:
    assert unescape(escape(value)) == value
    assert unescape(escape_ft(value)) == value


def test_line_breaks_and_delimiters() -> None:
    assert unescape(r"regel 1\.br\regel 2") == "regel 1\nregel 2"
    assert unescape(r"a\F\b\S\c\T\d\R\e\E\f") == "a|b^c&d~e\\f"
    assert unescape(r"a\.sp2\b\.ce\c") == "a\n\nb\nc"
    assert unescape(r"\H\vet\N\ en \.in+4\ingesprongen") == "vet en ingesprongen"
    assert unescape(r"\X2222\ \X0D0A\ \XC3A9\ \XE9\ ") == '"" \n é é '


def test_what_it_does_not_know_or_should_not_show_is_kept_as_written() -> None:
    assert unescape(r"a\X1C\b") == r"a\X1C\b"  # would end an MLLP frame
    assert unescape(r"\X1B\[2J") == r"\X1B\[2J"  # a terminal's escape
    assert unescape(r"\Zlocal\ \C2842\ \XZZ\ \\") == r"\Zlocal\ \C2842\ \XZZ\ \\"
    assert unescape("a lone \\ stays") == "a lone \\ stays"


def test_escapes_pair_up_in_order() -> None:
    """A long hexadecimal escape does not shift the pairing of those after it."""
    assert unescape("a\\X" + "41" * 40 + "\\b\\T\\c") == "a" + "A" * 40 + "b&c"


def test_a_message_s_own_delimiters() -> None:
    assert unescape("a!.br!b!F!c!S!", "#", "*~!&") == "a\nb#c*"
    assert unescape(r"a\F\b", "|", "^~") == r"a\F\b"  # no escape character declared
