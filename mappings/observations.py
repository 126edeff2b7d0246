"""Questions, letter sections, free text and attachments as OBX segments (with their NTE).

Builders append finished OBX segments (and NTEs) to a list, numbering them on from the number
they are given (OBX-1 from 1 within the OBR group they follow), so a group can mix letter
sections, questions and attachments in one numbering; each gives the last number it used.
They build from segment templates (`mappings.templates`): one call per segment. Observation
identifiers (OBX-3) are local codes in the version's local coding system (`L` or `99zda`).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Iterable
from typing import Final

from mappings.checked import TooLong, Writers
from mappings.datatypes import constant_coded
from mappings.datetimes import hl7_date
from mappings.escape import escape, escape_ft
from mappings.lengths import UNLIMITED
from mappings.slots import slot
from mappings.templates import Layout
from mappings.writer import components, repetitions
from schemas import Attachment, CodedItem, Letter, Question
from schemas.attachments import CheckedBase64

FINAL: Final = "F"
NOT_ANSWERED: Final = "X"
NOTE_SOURCE: Final = "P"  # HL7 table 0105: the placer (the platform) wrote the note.

YES: Final = "Y^Ja^HL70136"
NO: Final = "N^Nee^HL70136"

# Letter sections in the order a reader expects them; codes are stable, texts are for display.
LETTER_SECTIONS: Final = (
    ("reason", "LETTER-REASON", "Reden van verwijzing"),
    ("question", "LETTER-QUESTION", "Vraagstelling"),
    ("history", "LETTER-HISTORY", "Anamnese"),
    ("examination", "LETTER-EXAMINATION", "Lichamelijk onderzoek"),
    ("medication", "LETTER-MEDICATION", "Medicatie"),
    ("allergies", "LETTER-ALLERGIES", "Allergieën"),
    ("remarks", "LETTER-REMARKS", "Opmerkingen"),
)

_FIVE: Final = ("",) * 5  # OBX-6 to OBX-10

ATTACHMENT_CODE: Final = ("ATTACHMENT", "Bijlage")
# content_type -> ED-2 type of data (HL7 table 0191) and ED-3 subtype.
ED_TYPES: Final[dict[str, tuple[str, str]]] = {
    "application/pdf": ("AP", "PDF"),
    "image/png": ("IM", "PNG"),
    "image/jpeg": ("IM", "JPEG"),
    "text/plain": ("TEXT", "PLAIN"),
}


def question_code(question: Question) -> str:
    """The question's own code, or `Q-` + 10 hex digits of the SHA-256 of its title: stable
    across messages and versions for the same question text, and short enough for CE-1."""
    if question.code is not None:
        return question.code
    digest = hashlib.sha256(question.title.encode("utf-8", "surrogatepass")).hexdigest()
    return "Q-" + digest[:10].upper()


# Segment templates (`mappings.templates`): OBX-1 the number, OBX-2 the value type, OBX-3 the
# identifier, OBX-5 the value, OBX-11 the status.
_OBX_PARAMS: Final = ("number", "identifier", "value")
_TEXT_OBX: Final = Layout(
    "OBX", "=number", "TX", "=identifier", "", "!value", *_FIVE, FINAL, params=_OBX_PARAMS
)
_QUESTION: Final = ("CE_CWE", ("$code", "$title", "=system"))
_QUESTION_PARAMS: Final = ("number", "value_type", "code", "title", "system", "value", "status")
_QUESTION_OBX: Final = Layout(
    "OBX", "=number", "=value_type", _QUESTION, "", "=value", *_FIVE, "=status",
    params=_QUESTION_PARAMS,
)  # fmt: skip
_QUESTION_TEXT_OBX: Final = Layout(
    "OBX", "=number", "TX", _QUESTION, "", "!value", *_FIVE, "=status",
    params=_QUESTION_PARAMS,
)  # fmt: skip
_ATTACHMENT_OBX: Final = Layout(
    "OBX", "=number", "ED", "=identifier", "", "=value", *_FIVE, FINAL, params=_OBX_PARAMS
)
_NOTE: Final = Layout("NTE", "1", NOTE_SOURCE, "=comment", params=("comment",))


def letter(value: Letter, system: str, w: Writers, out: list[str], number: int = 0) -> int:
    """One FT observation per letter section that has text, appended to `out` as OBX
    segments numbered after `number`; gives the last number."""
    sections, limits = _letter_sections(system, w)
    first = number
    for attribute, head in sections:
        text: str | None = getattr(value, attribute)
        if text is not None:
            number += 1
            out.append(f"OBX|{number}|{head}{escape_ft(text)}{_LETTER_TAIL}")
    if number != first:
        set_id, identifier, content = limits
        if len(str(number)) > set_id or identifier or content < UNLIMITED:
            _check_letter(out[len(out) - number + first :], limits)
    return number


_LETTER_TAIL: Final = "||||||" + FINAL  # OBX-6 to OBX-10 empty, OBX-11 final


def _check_letter(segments: list[str], limits: tuple[int, bool, int]) -> None:
    """What the OBX join checks, for letter OBX segments that may not pass."""
    set_id, identifier, content = limits
    for segment in segments:
        fields = segment.split("|")
        if identifier or len(fields[1]) > set_id or len(fields[5]) > content:
            raise TooLong


@functools.lru_cache(maxsize=64)
def _letter_sections(
    system: str, w: Writers
) -> tuple[tuple[tuple[str, str], ...], tuple[int, bool, int]]:
    """Each letter section's attribute and its OBX from OBX-2 to OBX-4 (`FT|<identifier>||`),
    in order; and the limits of OBX-1 and OBX-5, and whether an identifier is too long for
    OBX-3 (never: they are the platform's own codes)."""
    limits = w.limits["OBX"][1]
    sections = tuple(
        (attribute, f"FT|{constant_coded(code, title, system, w)}||")
        for attribute, code, title in LETTER_SECTIONS
    )
    too_long = any(len(head) - 5 > limits[2] for _, head in sections)
    return sections, (limits[0], too_long, limits[4])


def text(
    code: str,
    title: str,
    value: str | None,
    system: str,
    w: Writers,
    out: list[str],
    number: int = 0,
) -> int:
    """A TX observation for a free-text item (clinical information, instructions)."""
    if value is None:
        return number
    number += 1
    identifier = constant_coded(code, title, system, w)
    out.append(_TEXT_OBX[w](str(number), identifier, value))
    return number


def questions(
    items: Iterable[Question], system: str, w: Writers, out: list[str], number: int = 0
) -> int:
    """Every question, answered or not; an unanswered one has an empty OBX-5 and OBX-11 `X`."""
    for question in items:
        number += 1
        status = NOT_ANSWERED if question.answer is None else FINAL
        code = question.code if question.code is not None else question_code(question)
        title = question.title or ""
        if question.answer_type not in _BUILT_ANSWERS and isinstance(question.answer, str):
            out.append(
                _QUESTION_TEXT_OBX[w](
                    str(number), "TX", code, title, system, question.answer, status
                )
            )
            continue
        value_type, value = _answer(question)
        out.append(_QUESTION_OBX[w](str(number), value_type, code, title, system, value, status))
    return number


_BUILT_ANSWERS: Final = frozenset({"yes_no", "multiple_choice", "date"})


def _answer(question: Question) -> tuple[str, str]:
    answer = question.answer
    kind = question.answer_type
    if kind == "yes_no":
        return "CE", "" if answer is None else (YES if answer is True else NO)
    if kind == "multiple_choice":
        chosen = answer if isinstance(answer, tuple) else ()
        # `repetitions(components("", escape(option)) ...)`: an option escaped to nothing
        # is left out, any other is `^<option>` (escaped text never ends with `^`).
        return "CE", "~".join(["^" + value for value in map(escape, chosen) if value])
    if kind == "date":
        return "DT", hl7_date(answer) if isinstance(answer, datetime.date) else ""
    return "TX", escape_ft(answer) if isinstance(answer, str) else ""


def attachments(
    items: Iterable[Attachment], system: str, w: Writers, out: list[str], number: int = 0
) -> int:
    """OBX ED `^<type>^<subtype>^Base64^<data>`, then an NTE `<filename>~<description>`."""
    identifier = constant_coded(*ATTACHMENT_CODE, system, w)
    obx, nte = _ATTACHMENT_OBX[w], _NOTE[w]
    for index, item in enumerate(items):
        kind, subtype = ED_TYPES[item.content_type]
        # Checked base64 goes in when the message is encoded (`mappings.slots`); other text
        # (a model built without validation) is escaped like any value.
        data = item.data
        value = components(
            "",
            kind,
            subtype,
            "Base64",
            slot(index) if isinstance(data, CheckedBase64) else escape(data),
        )
        note = escape_ft(item.filename)
        if item.description is not None:
            note += "~" + escape_ft(item.description)
        number += 1
        out.append(obx(str(number), identifier, value))
        if note:
            out.append(nte(note))
    return number


def note(set_id: int, comment: str, comment_type: str, w: Writers) -> str:
    """NTE `<set id>|P|<comment>|<comment type>`; `comment` and type are escaped HL7 text."""
    return w.NTE(str(set_id), NOTE_SOURCE, comment, comment_type)


def cluster_note(set_id: int, cluster: CodedItem, system: str, w: Writers) -> str:
    """NTE `<n>|P|<cluster code>~<cluster name>|CLUSTER^Cluster^<system>`: the code and the name
    as two comment lines, so neither has to be split out of a sentence."""
    comment = escape_ft(cluster.code) + "~" + escape_ft(cluster.name)
    return note(set_id, comment, constant_coded("CLUSTER", "Cluster", system, w), w)


def attachment_list_note(set_id: int, items: Iterable[Attachment], system: str, w: Writers) -> str:
    """NTE `<n>|P|<file name>~<file name>…|ATTACHMENTS^Bijlagen^<system>`: what the order
    carries, for receivers that file the OBX ED documents separately."""
    comment = repetitions(escape_ft(item.filename) for item in items)
    return note(set_id, comment, constant_coded("ATTACHMENTS", "Bijlagen", system, w), w)
