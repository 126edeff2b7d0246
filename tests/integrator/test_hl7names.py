"""HL7 fields named per version, and the field-by-field comparison of the resend preview."""

from __future__ import annotations

from destinations.hl7text import unescape
from integrator.hl7names import field_changes, field_name, hl7_version, named_fields
from integrator.hl7view import field_rows, hl7_delimiters

V251 = (
    "MSH|^~\\&|INTEGRATOR||HIS|NOORD|20261130091500||REF^I12^REF_I12|C1|P|2.5.1\r"
    "PID|1||999990019^^^NLMINBIZA^NNNLD||Berg&van der&Berg^Jan\r"
    "ZXT|1|own"
)
V24 = V251.replace("|2.5.1\r", "|2.4\r")


def test_fields_are_named_as_their_version_names_them() -> None:
    assert hl7_version(V251) == "2.5.1" and hl7_version(V24) == "2.4"
    for text in (V251, V24):
        named = {f.position: f for f in named_fields(text)}
        assert named["PID-5"].name == "Patient Name"
        assert named["PID-5"].value == "Berg&van der&Berg^Jan"
        assert named["MSH-10"].name == "Message Control ID"
        assert named["PID-1"].name == "Set ID PID"
        assert named["ZXT-1"].name is None  # a Z-segment is shown by position only


def test_a_repeated_segment_s_fields_say_which_occurrence_they_are_in() -> None:
    """A referral's letter is several OBX segments: ``OBX-5`` eight times over left support
    counting rows to tell which section they read out. Once-only segments keep ``PID-5``."""
    text = V251 + "\rOBX|1|FT|A^Anamnese||eerste\rNTE|1||een\rOBX|2|FT|B^Beleid||tweede"
    named = [(f.position, f.name, f.value) for f in named_fields(text)]
    assert ("OBX(1)-5", "Observation Value", "eerste") in named
    assert ("OBX(2)-5", "Observation Value", "tweede") in named
    assert ("NTE-3", "Comment", "een") in named  # once: no number
    assert ("PID-5", "Patient Name", "Berg&van der&Berg^Jan") in named
    assert not any(position.startswith("OBX-") for position, _, _ in named)


def test_a_value_with_escapes_also_reads_as_text() -> None:
    """A letter's lines are one FT value with ``\\.br\\`` between them: support reads them out
    as the GP wrote them. A value without escapes, and the delimiters themselves, read as is."""
    text = V251 + "\rOBX|1|FT|A^Anamnese||Sinds 2019.\\.br\\Rookt \\T\\ drinkt niet"
    named = {f.position: f for f in named_fields(text)}
    assert named["OBX-5"].value == "Sinds 2019.\\.br\\Rookt \\T\\ drinkt niet"
    assert named["OBX-5"].reads == "Sinds 2019.\nRookt & drinkt niet"
    assert named["PID-5"].reads is None  # the components' & is the wire's, not text
    assert named["MSH-2"].reads is None and named["MSH-1"].reads is None


def test_a_message_s_own_delimiters_are_the_ones_read() -> None:
    text = "MSH#*~!&#INTEGRATOR##HIS#NOORD#20261130##REF*I12#C1#P#2.5.1\rOBX#1#FT####a!.br!b!F!"
    assert hl7_delimiters(text) == ("#", "*~!&")
    assert hl7_delimiters("PID|1") == ("|", "^~\\&")  # no MSH: the standard's
    assert unescape("a!.br!b!F!", *hl7_delimiters(text)) == "a\nb#"


def test_unknown_versions_and_fields_have_no_name() -> None:
    assert field_name("PID-5", None) is None
    assert field_name("PID-5", "9.9") is None
    assert field_name("PID-999", "2.5.1") is None


def test_changes_name_each_differing_field_and_keep_repeats_apart() -> None:
    """Keyed as the message page writes them (``OBX(2)-3``), so support reads one notation."""
    before = V251 + "\rOBX|1|FT|A\rOBX|2|FT|B"
    after = before.replace("|C1|", "|C2|").replace("OBX|2|FT|B", "OBX|2|FT|C") + "\rNTE|1"
    changes = {c.position: c for c in field_changes(before, after)}
    assert set(changes) == {"MSH-10", "OBX(2)-3", "NTE-1"}
    assert (changes["MSH-10"].before, changes["MSH-10"].after) == ("C1", "C2")
    assert changes["MSH-10"].name == "Message Control ID"
    assert changes["OBX(2)-3"].name == "Observation Identifier"
    assert changes["NTE-1"].before is None
    assert field_changes(before, before) == []
    shown = {position for position, _ in field_rows(after, numbered=True)}
    assert set(changes) <= shown  # the preview's keys are rows of the message page


def test_a_segment_repeated_in_one_message_only_is_numbered_in_both() -> None:
    """Before: one OBX; after: two. The first is OBX(1) on both sides, so it is not a change."""
    before = V251 + "\rOBX|1|FT|A||eerste"
    after = before + "\rOBX|2|FT|B||tweede"
    changes = {c.position: (c.before, c.after) for c in field_changes(before, after)}
    assert changes == {
        "OBX(2)-1": (None, "2"),
        "OBX(2)-2": (None, "FT"),
        "OBX(2)-3": (None, "B"),
        "OBX(2)-5": (None, "tweede"),
    }


def test_repeats_are_told_apart_by_segment_not_by_field() -> None:
    """The first OBX has no OBX-5: the second's OBX-5 is the second segment's, not 'the first
    OBX-5', and a value added to the first segment shows there."""
    before = V251 + "\rOBX|1|FT|A\rOBX|2|FT|B||tweede"
    after = before.replace("OBX|1|FT|A", "OBX|1|FT|A||eerste")
    [change] = field_changes(before, after)
    assert (change.position, change.before, change.after) == ("OBX(1)-5", None, "eerste")


def test_long_values_are_compared_whole_and_shown_short() -> None:
    attachment = "QUJD" * 100_000
    before = V251 + f"\rOBX|1|ED|PDF||^AP^PDF^Base64^{attachment}"
    after = before[:-1] + "E"
    [change] = field_changes(before, after)
    assert change.position == "OBX-5"
    assert change.before is not None and change.after is not None
    assert len(change.after) < 300 and change.after.endswith(" characters)")
    assert named_fields(before)[-1].value.endswith(" characters)")
