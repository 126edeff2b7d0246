"""ACK reading and classification, and MSH reading for the receiver."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import destinations.ack as ack_module
from destinations.ack import (
    Ack,
    AckOutcome,
    application_ack_type,
    classify_ack,
    parse_ack,
    read_msh,
)
from destinations.errors import (
    AckControlIdMismatch,
    DeliveryError,
    InvalidAck,
    MalformedAck,
    MalformedMessage,
)

from .helpers import make_ack, make_message


@pytest.mark.parametrize("code", ["AA", "AE", "AR", "CA", "CE", "CR"])
def test_every_acknowledgement_code_is_read(code: str) -> None:
    raw = make_ack("MSG0001", code)
    ack = parse_ack(raw)
    assert ack == Ack(code=code, control_id="MSG0001", text="", error="", raw=raw)


@pytest.mark.parametrize("sep", ["\r", "\n", "\r\n"])
def test_segment_separators_are_lenient(sep: str) -> None:
    ack = parse_ack(make_ack("MSG0002", "AE", sep=sep))
    assert (ack.code, ack.control_id) == ("AE", "MSG0002")


def test_encoding_characters_come_from_msh() -> None:
    raw = b"MSH#*~!&#HIS#ZN#INT##20261120##ACK*I12*ACK#X1#P#2.5.1\rMSA#AR#MSG9#bad !F! value\r"
    ack = parse_ack(raw)
    assert (ack.code, ack.control_id, ack.text) == ("AR", "MSG9", "bad # value")


def test_text_is_unescaped() -> None:
    raw = make_ack("M1", "AE").replace(b"MSA|AE|M1", b"MSA|AE|M1|a\\F\\b\\S\\c\\E\\d\\.br\\e")
    assert parse_ack(raw).text == "a|b^c\\d\ne"


def test_hl7_25_err_segment_is_summarised() -> None:
    raw = (
        make_ack("M1", "AE")
        + b"ERR||PID^1^3|207^Application internal error^HL70357|E||||Try later\r"
    )
    assert parse_ack(raw).error == "207 Application internal error at PID^1^3: Try later"


def test_hl7_24_err_segment_is_summarised() -> None:
    raw = make_ack("M1", "AR") + b"ERR|PID^1^5^102&Data type error&HL70357\r"
    assert parse_ack(raw).error == "102 Data type error at PID^1^5"


def test_err_7_the_diagnostic_text_is_read_after_the_user_message() -> None:
    """A hospital's words in ERR-7 (diagnostic information) reached no one: only ERR-2, 3 and
    8 were read."""
    raw = make_ack("M1", "AE") + (
        b"ERR||PID^1^3|101^Required field missing^HL70357|E|||"
        b"Veld PID-3 ontbreekt: BSN verplicht\\T\\afdeling\r"
    )
    assert parse_ack(raw).error == (
        "101 Required field missing at PID^1^3: Veld PID-3 ontbreekt: BSN verplicht&afdeling"
    )
    both = make_ack("M1", "AE") + b"ERR||PV1^1^8|102^Data type error|E|||diagnosis|user words\r"
    assert parse_ack(both).error == "102 Data type error at PV1^1^8: user words: diagnosis"


def test_every_err_segment_is_read_not_only_the_first() -> None:
    """Two problems in two ERR segments: only the first was said, so support fixed one,
    resent, and was refused again for the other."""
    raw = make_ack("M1", "AR") + (
        b"ERR||PID^1^5|102^Data type error|E||||Achternaam te lang\r"
        b"ERR||PV1^1^8|103^Table value not found|E||||Verwijzer AGB onbekend\r"
    )
    assert parse_ack(raw).error == (
        "102 Data type error at PID^1^5: Achternaam te lang; "
        "103 Table value not found at PV1^1^8: Verwijzer AGB onbekend"
    )
    many = make_ack("M1", "AR") + b"".join(
        b"ERR||PID^1^%d|102^Data type error\r" % n for n in range(1, 30)
    )
    said = parse_ack(many).error.split("; ")
    assert len(said) == ack_module.ERRORS_READ and said[-1].endswith(
        f"PID^1^{ack_module.ERRORS_READ}"
    )
    empty = make_ack("M1", "AR").replace(b"MSA|AR|M1", b"MSA|AR|M1||||200^Unsupported") + (
        b"ERR|\rERR|\r"
    )
    assert parse_ack(empty).error == "200 Unsupported"  # no ERR says anything: MSA-6 does


def test_msa6_error_condition_is_used_without_err() -> None:
    raw = make_ack("M1", "AR").replace(b"MSA|AR|M1", b"MSA|AR|M1||||200^Unsupported message type")
    assert parse_ack(raw).error == "200 Unsupported message type"


def test_latin1_ack_text_is_decoded_by_msh18() -> None:
    header = "MSH|^~\\&|HIS|ZN|INT||20261120||ACK^I12^ACK|X|P|2.4||||||8859/1"
    raw = f"{header}\rMSA|AE|M1|Ongeldig: café\r".encode("latin-1")
    assert parse_ack(raw).text == "Ongeldig: café"


def test_leading_blank_lines_and_byte_order_mark_are_tolerated() -> None:
    assert parse_ack(b"\r\n\xef\xbb\xbf" + make_ack("M1")).control_id == "M1"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "empty"),
        (b"PID|1\rMSA|AA|1\r", "does not start with an MSH segment"),
        (b"garbage", "does not start with an MSH segment"),
        (b"MSHA^~\\&|x\rMSA|AA|1", "field separator"),
        (b"MSH||x\rMSA|AA|1", "encoding characters"),
        (b"MSH|^~\\&|HIS|ZN|INT||20261120||ACK|X|P|2.5.1\r", "no MSA segment"),
        (b"MSH|^~\\&|HIS|ZN|INT||20261120||ACK|X|P|2.5.1\rMSA||M1\r", "MSA-1"),
        (b"MSH|^~\\&|HIS|ZN|INT||20261120||ACK|X|P|2.5.1\rMSA|OK|M1\r", "MSA-1"),
        # Read as its first MSA, a rejection after an AA counted as delivered (an audit).
        (
            b"MSH|^~\\&|HIS|ZN|INT||20261120||ACK|X|P|2.5.1\rMSA|AA|M1\rMSA|AR|M1\r",
            "more than one MSA segment",
        ),
    ],
)
def test_malformed_acks_are_refused_naming_the_problem(raw: bytes, problem: str) -> None:
    with pytest.raises(MalformedAck, match=problem) as info:
        parse_ack(raw)
    assert isinstance(info.value, InvalidAck)
    assert info.value.retryable


def test_malformed_ack_message_never_contains_content() -> None:
    raw = b"MSH|^~\\&|HIS|ZN|INT||20261120||ACK|X|P|2.5.1\rMSA|Jansen BSN 123456782|M1\r"
    with pytest.raises(MalformedAck) as info:
        parse_ack(raw)
    assert "Jansen" not in str(info.value)
    assert "123456782" not in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_an_ack_or_malformed_ack(raw: bytes) -> None:
    with contextlib.suppress(MalformedAck):
        parse_ack(raw)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("AA", AckOutcome.DELIVERED),
        ("CA", AckOutcome.DELIVERED),
        ("AE", AckOutcome.RETRY),
        ("CE", AckOutcome.RETRY),
        ("AR", AckOutcome.DEADLETTER),
        ("CR", AckOutcome.DEADLETTER),
    ],
)
def test_default_classification(code: str, outcome: AckOutcome) -> None:
    assert classify_ack(parse_ack(make_ack("M1", code)), "M1") is outcome


def test_policy_can_turn_errors_into_dead_letters_and_rejects_into_retries() -> None:
    error = parse_ack(make_ack("M1", "AE"))
    reject = parse_ack(make_ack("M1", "CR"))
    assert classify_ack(error, "M1", on_error="deadletter") is AckOutcome.DEADLETTER
    assert classify_ack(reject, "M1", on_reject="retry") is AckOutcome.RETRY
    accept = parse_ack(make_ack("M1", "AA"))
    assert classify_ack(accept, "M1", on_error="deadletter") is AckOutcome.DELIVERED


def test_wrong_msa2_raises_mismatch() -> None:
    ack = parse_ack(make_ack("OTHER", "AA"))
    with pytest.raises(AckControlIdMismatch) as info:
        classify_ack(ack, "M1")
    # What came back is the receiver's to choose, so it is said by its length only.
    assert str(info.value) == "MSA-2 (length 5) does not match the MSH-10 sent 'M1'"
    assert (info.value.expected, info.value.received_length) == ("M1", 5)
    assert isinstance(info.value, DeliveryError)
    assert info.value.retryable


def test_empty_msa2_is_a_mismatch() -> None:
    raw = b"MSH|^~\\&|HIS|ZN|INT||20261120||ACK|X|P|2.5.1\rMSA|AR\r"
    with pytest.raises(AckControlIdMismatch):
        classify_ack(parse_ack(raw), "M1")


def test_unknown_policy_is_refused() -> None:
    ack = parse_ack(make_ack("M1", "AE"))
    with pytest.raises(ValueError, match="on_error"):
        classify_ack(ack, "M1", on_error="ignore")  # type: ignore[arg-type]


def test_read_msh_fields() -> None:
    msh = read_msh(make_message("CTRL42"))
    assert msh.field_separator == "|"
    assert msh.encoding_characters == "^~\\&"
    assert (msh.sending_application, msh.sending_facility) == ("INTEGRATOR", "PLATFORM")
    assert (msh.receiving_application, msh.receiving_facility) == ("HIS", "ZNOORD")
    assert msh.message_time == "20261120091500+0100"
    assert msh.message_type == "REF^I12^REF_I12"
    assert (msh.message_code, msh.trigger_event) == ("REF", "I12")
    assert (msh.control_id, msh.processing_id, msh.version) == ("CTRL42", "P", "2.5.1")
    assert msh.charset == "UNICODE UTF-8"


def test_read_msh_with_short_msh_and_newlines() -> None:
    msh = read_msh(b"MSH|^~\\&|LAB\nPID|1\n")
    assert msh.sending_application == "LAB"
    assert (msh.control_id, msh.charset, msh.trigger_event) == ("", "", "")


def test_read_msh_decodes_latin1_fields() -> None:
    raw = "MSH|^~\\&|A|Café|B||2026||ORM^O01|C1|P|2.4||||||8859/1\r".encode("latin-1")
    assert read_msh(raw).sending_facility == "Café"


def test_read_msh_refuses_a_message_without_msh() -> None:
    with pytest.raises(MalformedMessage, match="does not start with an MSH segment"):
        read_msh(b"PID|1||123\r")


def _msh16_by_read_msh(raw: bytes) -> str | None:
    try:
        return read_msh(raw).application_ack_type
    except MalformedMessage:
        return None


@pytest.mark.parametrize(
    ("msh16", "expected"),
    [("AL", "AL"), (" al ", "AL"), ("NE", "NE"), ("", ""), ("ER", "ER")],
)
def test_application_ack_type_reads_msh16(msh16: str, expected: str) -> None:
    raw = f"MSH|^~\\&|A|F|B|G|2026||REF^I12|C1|P|2.5.1|||AL|{msh16}|NLD|UNICODE UTF-8\r".encode()
    assert application_ack_type(raw) == expected == read_msh(raw).application_ack_type


def test_application_ack_type_is_none_without_a_usable_msh() -> None:
    for raw in (b"", b"PID|1\r", b"MSHA^~\\&|X\r", b"MSH||A|B\r"):
        assert application_ack_type(raw) is None


_FIELD_PIECES = ["MSH", "|", "^~\\&", "^", "~", "&", "\\", "AL", "al", " AL ", "NE", "", " "]
_OTHER_PIECES = ["\r", "\n", "\ufeff", "\u00a0", "\x1c", "é", "UNICODE UTF-8", "8859/1", "A"]
_MSH_PIECES = st.sampled_from([*_FIELD_PIECES, *_OTHER_PIECES])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_MSH_PIECES, max_size=40).map("".join),
    st.sampled_from(["utf-8", "latin-1"]),
)
def test_application_ack_type_agrees_with_read_msh(text: str, encoding: str) -> None:
    raw = text.encode(encoding, errors="replace")
    assert application_ack_type(raw) == _msh16_by_read_msh(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_application_ack_type_agrees_with_read_msh_on_any_bytes(tail: bytes) -> None:
    raw = b"MSH|^~\\&|" + tail
    assert application_ack_type(raw) == _msh16_by_read_msh(raw)


def test_a_separator_that_the_charset_decodes_away_leaves_one_field() -> None:
    # MSH-1 is byte 0xA4: a Latin-1 look splits on it, the UTF-8 decoding MSH-18 asks for
    # turns it into U+FFFD, so the decoded segment does not split at all.
    raw = b"MSH\xa4^~\\&\xa4A\xa4B\xa4C\xa4D\xa42026\xa4\xa4ACK\xa4C1\xa4P\xa42.5\xa4\xa4\xa4\xa4AL"
    raw += b"\xa4\xa4UNICODE UTF-8\rMSA\xa4AA\xa4C1\r"
    msh = read_msh(raw)
    assert (msh.field_separator, msh.encoding_characters, msh.control_id) == ("\xa4", "^~\\&", "")
    assert application_ack_type(raw) == ""
    # Without a readable MSH-18 the ACK as a whole is read as UTF-8, else Latin-1.
    assert (parse_ack(raw).code, parse_ack(raw).control_id) == ("AA", "C1")


def _read(reader: Callable[[bytes], Ack], raw: bytes) -> Ack | str:
    try:
        return reader(raw)
    except MalformedAck as error:
        return str(error)


_ACK_PIECES = st.sampled_from(
    [
        *_FIELD_PIECES,
        "\n", "\r\n", "MSA|", "MSA|AE|C1|", "ERR|", "ERR|||", "AA", "AE", "CR", "ca ", "x",
        "\\F\\", "\\S\\", "\\R\\", "\\E\\", "\\T\\", "\\.br\\",
    ]
)  # fmt: skip


def _segments(segments: list[str]) -> str:
    return "".join("\r" + segment for segment in segments)


_CHARSETS = st.sampled_from(["", "UNICODE UTF-8", "8859/1", "8859/15", "ASCII", "UNICODE", "X"])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(["", "A", "ACK", "C1", " P", "2.5"]), min_size=15, max_size=15),
    _CHARSETS,
    st.lists(st.lists(_ACK_PIECES, max_size=12).map("".join), max_size=4).map(_segments),
)
def test_an_ack_with_the_standard_separators_reads_as_its_msh18_would_have_it(
    fields: list[str], charset: str, rest: str
) -> None:
    # docs/product.md §5: the ACK decides the outcome. ASCII after ``MSH|^~\&|`` is read
    # without decoding by MSH-18 first; whatever MSH-18 (or what follows) says, the result is
    # the one of reading MSH-18 first.
    msh = "|".join(["MSH", "^~\\&", *fields, charset])  # MSH-3 to MSH-17, then MSH-18
    raw = (msh + rest).encode("ascii")
    assert _read(parse_ack, raw) == _read(ack_module._parse_decoding, raw)


def test_an_msa_2_of_the_engines_own_form_is_named_any_other_only_by_its_length() -> None:
    """A receiver answering each message with the previous one's MSH-10 (off by one) was told
    only "MSA-2 (length 19) does not match": an MSA-2 of the form the engine mints its MSH-10s
    in is no patient data, and naming it shows the off-by-one at once."""
    from integrator.ids import new_control_id

    earlier, sent = new_control_id(), new_control_id()
    with pytest.raises(AckControlIdMismatch) as named:
        classify_ack(parse_ack(make_ack(earlier, "AA")), sent)
    assert str(named.value) == (
        f"MSA-2 {earlier} is not the MSH-10 sent '{sent}', but has the form of the MSH-10s "
        "this engine sends: the answer to another message (an earlier one, likely)"
    )
    for other in ("999990019", earlier.lower(), earlier + "0", "Jan " + earlier[4:]):
        with pytest.raises(AckControlIdMismatch) as withheld:
            classify_ack(parse_ack(make_ack(other, "AA")), sent)
        assert str(withheld.value).startswith(f"MSA-2 (length {len(other)}) does not match")
        assert other not in str(withheld.value)


def test_an_unknown_msa_1_of_a_codes_form_is_named() -> None:
    """``MSA|OK|…`` was refused as "MSA-1 is not one of …" without the value: a hospital's
    engineer could not tell what their engine sent. A code's form (letters and digits, three
    at most) holds no patient data and is named; anything else is not."""
    with pytest.raises(MalformedAck) as named:
        parse_ack(make_ack("M1", "AA").replace(b"MSA|AA|", b"MSA|ok|"))
    assert str(named.value) == "ACK MSA-1 OK is not one of AA, AE, AR, CA, CE, CR"
    with pytest.raises(MalformedAck) as withheld:
        parse_ack(make_ack("M1", "AA").replace(b"MSA|AA|", b"MSA|Jansen|"))
    assert str(withheld.value) == "ACK MSA-1 is not one of AA, AE, AR, CA, CE, CR"
