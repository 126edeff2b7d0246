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

from mappings.checked import Writers
from mappings.datatypes import constant_coded
from mappings.datetimes import hl7_date
from mappings.escape import escape, escape_ft
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
_LETTER_OBX: Final = Layout("OBX", "=number", "FT", "=identifier", "", "!value", *_FIVE, FINAL)
_TEXT_OBX: Final = Layout("OBX", "=number", "TX", "=identifier", "", "!value", *_FIVE, FINAL)
_QUESTION: Final = ("CE_CWE", ("$code", "$title", "=system"))
_QUESTION_OBX: Final = Layout(
    "OBX", "=number", "=value_type", _QUESTION, "", "=value", *_FIVE, "=status"
)
_QUESTION_TEXT_OBX: Final = Layout(
    "OBX", "=number", "TX", _QUESTION, "", "!value", *_FIVE, "=status"
)
_ATTACHMENT_OBX: Final = Layout("OBX", "=number", "ED", "=identifier", "", "=value", *_FIVE, FINAL)
_NOTE: Final = Layout("NTE", "1", NOTE_SOURCE, "=comment")


def letter(value: Letter, system: str, w: Writers, out: list[str], number: int = 0) -> int:
    """One FT observation per letter section that has text, appended to `out` as OBX
    segments numbered after `number`; gives the last number."""
    build = _LETTER_OBX(w)
    for attribute, identifier in _letter_sections(system, w):
        text: str | None = getattr(value, attribute)
        if text is not None:
            number += 1
            out.append(build(number=str(number), identifier=identifier, value=text))
    return number


@functools.lru_cache(maxsize=64)
def _letter_sections(system: str, w: Writers) -> tuple[tuple[str, str], ...]:
    """Each letter section's attribute and identifier (OBX-3), in order."""
    return tuple(
        (attribute, constant_coded(code, title, system, w))
        for attribute, code, title in LETTER_SECTIONS
    )


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
    out.append(_TEXT_OBX(w)(number=str(number), identifier=identifier, value=value))
    return number


def questions(
    items: Iterable[Question], system: str, w: Writers, out: list[str], number: int = 0
) -> int:
    """Every question, answered or not; an unanswered one has an empty OBX-5 and OBX-11 `X`."""
    for question in items:
        number += 1
        status = NOT_ANSWERED if question.answer is None else FINAL
        code = question_code(question)
        title = question.title or ""
        if question.answer_type not in _BUILT_ANSWERS and isinstance(question.answer, str):
            out.append(
                _QUESTION_TEXT_OBX(w)(
                    number=str(number),
                    code=code,
                    title=title,
                    system=system,
                    value=question.answer,
                    status=status,
                )
            )
            continue
        value_type, value = _answer(question)
        out.append(
            _QUESTION_OBX(w)(
                number=str(number),
                value_type=value_type,
                code=code,
                title=title,
                system=system,
                value=value,
                status=status,
            )
        )
    return number


_BUILT_ANSWERS: Final = frozenset({"yes_no", "multiple_choice", "date"})


def _answer(question: Question) -> tuple[str, str]:
    answer = question.answer
    kind = question.answer_type
    if kind == "yes_no":
        return "CE", "" if answer is None else (YES if answer is True else NO)
    if kind == "multiple_choice":
        chosen = answer if isinstance(answer, tuple) else ()
        return "CE", repetitions(components("", escape(option)) for option in chosen)
    if kind == "date":
        return "DT", hl7_date(answer) if isinstance(answer, datetime.date) else ""
    return "TX", escape_ft(answer) if isinstance(answer, str) else ""


def attachments(
    items: Iterable[Attachment], system: str, w: Writers, out: list[str], number: int = 0
) -> int:
    """OBX ED `^<type>^<subtype>^Base64^<data>`, then an NTE `<filename>~<description>`."""
    identifier = constant_coded(*ATTACHMENT_CODE, system, w)
    obx, nte = _ATTACHMENT_OBX(w), _NOTE(w)
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
        out.append(obx(number=str(number), identifier=identifier, value=value))
        if note:
            out.append(nte(comment=note))
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
