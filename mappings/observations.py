"""Questions, letter sections, free text and attachments as OBX segments (with their NTE).

Builders return `Observation`s; `obx_segments` numbers them (OBX-1 from 1 within the OBR group
they follow) and renders them, so a group can mix letter sections, questions and attachments in
one numbering. Observation identifiers (OBX-3) are local codes in the version's local coding
system (`L` or `99zda`).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from typing import Final, NamedTuple

from mappings.checked import Writers
from mappings.datatypes import coded, constant_coded
from mappings.datetimes import hl7_date
from mappings.escape import escape, escape_ft
from mappings.slots import slot
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

ATTACHMENT_CODE: Final = ("ATTACHMENT", "Bijlage")
# content_type -> ED-2 type of data (HL7 table 0191) and ED-3 subtype.
ED_TYPES: Final[dict[str, tuple[str, str]]] = {
    "application/pdf": ("AP", "PDF"),
    "image/png": ("IM", "PNG"),
    "image/jpeg": ("IM", "JPEG"),
    "text/plain": ("TEXT", "PLAIN"),
}


class Observation(NamedTuple):
    """One OBX before numbering; all strings are escaped HL7 text."""

    value_type: str
    identifier: str
    value: str
    status: str = FINAL
    note: str = ""  # NTE-3 after the OBX, if any


def question_code(question: Question) -> str:
    """The question's own code, or `Q-` + 10 hex digits of the SHA-256 of its title: stable
    across messages and versions for the same question text, and short enough for CE-1."""
    if question.code is not None:
        return question.code
    digest = hashlib.sha256(question.title.encode("utf-8", "surrogatepass")).hexdigest()
    return "Q-" + digest[:10].upper()


def letter(value: Letter, system: str, w: Writers) -> list[Observation]:
    """One FT observation per letter section that has text."""
    out = []
    for attribute, code, title in LETTER_SECTIONS:
        text: str | None = getattr(value, attribute)
        if text is not None:
            out.append(Observation("FT", constant_coded(code, title, system, w), escape_ft(text)))
    return out


def text(code: str, title: str, value: str | None, system: str, w: Writers) -> list[Observation]:
    """A TX observation for a free-text item (clinical information, instructions)."""
    if value is None:
        return []
    return [Observation("TX", constant_coded(code, title, system, w), escape_ft(value))]


def questions(items: Iterable[Question], system: str, w: Writers) -> list[Observation]:
    """Every question, answered or not; an unanswered one has an empty OBX-5 and OBX-11 `X`."""
    out = []
    for question in items:
        identifier = coded(question_code(question), question.title, system, w)
        value_type, value = _answer(question)
        status = NOT_ANSWERED if question.answer is None else FINAL
        out.append(Observation(value_type, identifier, value, status))
    return out


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


def attachments(items: Iterable[Attachment], system: str, w: Writers) -> list[Observation]:
    """OBX ED `^<type>^<subtype>^Base64^<data>`, then an NTE `<filename>~<description>`."""
    identifier = constant_coded(*ATTACHMENT_CODE, system, w)
    out = []
    for number, item in enumerate(items):
        kind, subtype = ED_TYPES[item.content_type]
        # Checked base64 goes in when the message is encoded (`mappings.slots`); other text
        # (a model built without validation) is escaped like any value.
        data = item.data
        value = components(
            "",
            kind,
            subtype,
            "Base64",
            slot(number) if isinstance(data, CheckedBase64) else escape(data),
        )
        note = escape_ft(item.filename)
        if item.description is not None:
            note += "~" + escape_ft(item.description)
        out.append(Observation("ED", identifier, value, FINAL, note))
    return out


def obx_segments(observations: Iterable[Observation], w: Writers) -> list[str]:
    """OBX segments numbered from 1, each followed by its NTE (set id 1) when it has one."""
    out = []
    obx, nte = w.OBX, w.NTE
    for number, (value_type, identifier, value, status, note) in enumerate(observations, 1):
        out.append(obx(str(number), value_type, identifier, "", value, "", "", "", "", "", status))
        if note:
            out.append(nte("1", NOTE_SOURCE, note))
    return out


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
