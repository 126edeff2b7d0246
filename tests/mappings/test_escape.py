"""Escaping of single values, and the writer's joins."""

from __future__ import annotations

import hl7
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappings.escape import _FT_TABLE, _TEXT_TABLE, escape, escape_ft, escape_opt
from mappings.writer import components, message, repetitions, segment, subcomponents

DELIMITERS = "|^~\\&"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain text, é ü ł 中", "plain text, é ü ł 中"),
        ("a|b", "a\\F\\b"),
        ("a^b", "a\\S\\b"),
        ("a&b", "a\\T\\b"),
        ("a~b", "a\\R\\b"),
        ("a\\b", "a\\E\\b"),
        ("\\F\\", "\\E\\F\\E\\"),
        ("line1\rline2\nline3\r\nend", "line1\\X0D\\line2\\X0A\\line3\\X0D\\\\X0A\\end"),
        ("\x0bframe\x1c", "\\X0B\\frame\\X1C\\"),
        # DEL and C1 are control characters too (the wire rules: every one but TAB).
        ("del\x7fnel\x85csi\x9b", "del\\X7F\\nel\\X85\\csi\\X9B\\"),
        ("tab\tstays", "tab\tstays"),
        ('""', "\\X2222\\"),
        ('say ""', 'say ""'),
        ("", ""),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a\r\nb", "a\\.br\\b"),
        ("a\rb\nc", "a\\.br\\b\\.br\\c"),
        ("a\n\nb", "a\\.br\\\\.br\\b"),
        ("x|y^z&w~v\\u", "x\\F\\y\\S\\z\\T\\w\\R\\v\\E\\u"),
        ("bell\x07", "bell\\X07\\"),
    ],
)
def test_escape_ft(raw: str, escaped: str) -> None:
    assert escape_ft(raw) == escaped


def test_escape_opt() -> None:
    assert escape_opt(None) == ""
    assert escape_opt("a|b") == "a\\F\\b"


def _round_trip(escaped: str) -> tuple[str, int]:
    parsed = hl7.parse(f"MSH|^~\\&|A\rZZZ|{escaped}|end\r")
    segment_ = parsed.segment("ZZZ")
    return parsed.unescape(str(segment_[1])), len(parsed)


@given(st.text())
def test_any_text_round_trips_in_one_field(text: str) -> None:
    escaped = escape(text)
    assert not any(char in escaped for char in "|^~&\r\n")
    assert _round_trip(escaped) == (text, 2)


@given(st.text())
def test_any_ft_text_round_trips_with_normalised_line_breaks(text: str) -> None:
    escaped = escape_ft(text)
    expected = text.replace("\r\n", "\r").replace("\n", "\r")
    assert _round_trip(escaped) == (expected, 2)


def test_joins_drop_trailing_empties_only() -> None:
    assert components("a", "", "c", "", "") == "a^^c"
    assert components("", "", "") == ""
    assert subcomponents("a", "", "") == "a"
    assert subcomponents("", "b") == "&b"
    assert repetitions(["a", "", "b"]) == "a~b"
    assert segment("PID", "1", "", "x", "", "") == "PID|1||x"
    assert segment("PV1") == "PV1"
    assert message(["MSH|^~\\&|A", "PID|1"]) == "MSH|^~\\&|A\rPID|1\r"


def test_trailing_escape_sequence_is_not_trimmed() -> None:
    # `\S\` ends with a backslash, not a caret: the trim must leave it alone.
    assert components(escape("a^"), "") == "a\\S\\"
    assert segment("NTE", escape("|")) == "NTE|\\F\\"


@given(st.text(), st.sampled_from(["", "|", "\n", "\x1c", "\x7f", "\x85", "é", "~\\"]))
def test_long_values_take_the_fast_check_with_the_same_result(text: str, extra: str) -> None:
    # Values of 512+ characters (base64 attachments) are checked on their ASCII bytes.
    long_value = "QUJD" * 150 + text + extra
    assert escape(long_value) == long_value.translate(_TEXT_TABLE)
    assert escape_ft(long_value) == long_value.replace("\r\n", "\n").translate(_FT_TABLE)
    assert _round_trip(escape(long_value)) == (long_value, 2)
