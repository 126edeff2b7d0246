"""Values longer than their HL7 component allows: cut with a warning, or kept whole, by rule.

Intake puts no length limits on text, so a mapper must decide. The rule, per kind of value
(the version pages list the fields):

* Identifiers and codes (BSN, ZD, AGB, BIG, UZOVI, local id, codes, coding systems, postcode,
  country, phone numbers, e-mail, house numbers, specimen type): **kept whole**. A cut
  identifier names something else, which is worse than a long one.
* FT/TX/ED content (letter sections, open and multiple-choice answers, clinical information,
  instructions, attachment data, file names, notes): **kept whole**. The length of OBX-5 and
  NTE-3 depends on the value type and is advisory; a cut letter or PDF would be wrong.
* Descriptive text in ST components (name parts, address parts, organisation and provider
  names, the text of coded values, question titles, location name, container): **at most
  `ST_LENGTH` (199) characters**, the ST length hl7apy validates in both HL7 2.4 and 2.5.1.
  A longer value is cut, and the message records a warning naming every field it lands in,
  e.g. `PID-5.1.3 shortened to 199 characters`; the warning never holds the value.

Lengths count characters of the value as given (before escaping and transliteration). The HL7
2.4 *field* lengths (PID-5 48, XCN 60…) are not applied: Dutch names with partner names exceed
them and receivers of these versions read the components.

Fitting works on the event, before rendering, so the shared builders stay unaware of it; only
the two composed values (surname as used, street line) are capped where they are composed,
with the same constant, and warned about here.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from mappings.context import Event
from schemas import Address, DiagnosticRequest, PersonName, Referral

ST_LENGTH: Final = 199

Path = tuple[str, ...]
"""Attribute names from the event; `*` means every item of a tuple."""

_NAME_PARTS: Final = (
    ("given", "2"),
    ("initials", "3"),
    ("prefix", "1.2"),
    ("family", "1.3"),
    ("partner_prefix", "1.4"),
    ("partner_family", "1.5"),
)
# XCN puts the name one component later: FN is XCN-2, given XCN-3, initials XCN-4.
_XCN_PARTS: Final = {"2": "3", "3": "4", "1.2": "2.2", "1.3": "2.3", "1.4": "2.4", "1.5": "2.5"}
_ADDRESS_PARTS: Final = (("street", "1.2"), ("house_number_addition", "2"), ("city", "3"))


def _name(prefix: Path, xpn: tuple[str, ...], xcn: tuple[str, ...]) -> list[tuple[Path, str]]:
    rules = []
    for attribute, component in _NAME_PARTS:
        fields = [f"{field}.{component}" for field in xpn]
        fields += [f"{field}.{_XCN_PARTS[component]}" for field in xcn]
        rules.append(((*prefix, attribute), ", ".join(fields)))
    return rules


def _address(prefix: Path, fields: tuple[str, ...]) -> list[tuple[Path, str]]:
    return [
        ((*prefix, attribute), ", ".join(f"{field}.{component}" for field in fields))
        for attribute, component in _ADDRESS_PARTS
    ]


_PATIENT: Final = [
    *_name(("patient", "name"), ("PID-5",), ()),
    *_address(("patient", "address"), ("PID-11",)),
]
REFERRAL_RULES: Final[list[tuple[Path, str]]] = [
    *_PATIENT,
    *_name(("referrer", "name"), ("PRD-2",), ("OBR-16", "PV1-8")),
    *_address(("referrer", "organisation", "address"), ("PRD-3",)),
    (("referrer", "organisation", "name"), "PRD-4.9"),
    (("provider", "name"), "PRD-4.9 (RT)"),
    (("care_question", "text"), "RF1-10.2"),
    (("care_product", "name"), "OBR-4.2"),
    (("icpc", "*", "text"), "DG1-3.2"),
    (("questions", "*", "title"), "OBX-3.2"),
]
ORDER_RULES: Final[list[tuple[Path, str]]] = [
    *_PATIENT,
    *_name(("referrer", "name"), (), ("ORC-10", "ORC-12", "OBR-16")),
    *_address(("referrer", "organisation", "address"), ("ORC-22",)),
    (("referrer", "organisation", "name"), "ORC-17.2, ORC-21.1"),
    (("care_product", "name"), "OBR-4.2"),
    (("tests", "*", "name"), "OBR-4.2"),
    (("tests", "*", "specimen", "container"), "NTE-3, SPM-27.2 (oml-v3)"),
    (("collection", "location_name"), "PV1-3.9"),
    (("questions", "*", "title"), "OBX-3.2"),
]


def _getter(path: Path) -> Callable[[Any], Iterator[str | None]]:
    """A fast reader of every value at `path` (None parts give nothing): most events have no
    long value, so `fit_event` only reads, and only rebuilds models when it must cut."""
    if "*" not in path:
        read = operator.attrgetter(".".join(path))

        def single(model: Any) -> Iterator[str | None]:
            try:
                yield read(model)
            except AttributeError:  # an optional part on the way is None
                return

        return single
    star = path.index("*")
    items = operator.attrgetter(".".join(path[:star]))
    rest = _getter(path[star + 1 :])

    def each(model: Any) -> Iterator[str | None]:
        for item in items(model) or ():
            yield from rest(item)

    return each


_READERS: Final = {
    id(rules): [(path, fields, _getter(path)) for path, fields in rules]
    for rules in (REFERRAL_RULES, ORDER_RULES)
}


E = TypeVar("E", Referral, DiagnosticRequest)


def fit_event(event: E) -> tuple[E, tuple[str, ...]]:
    """`event` with over-long descriptive text cut to `ST_LENGTH`, and one warning per rule
    that cut something. The event is returned unchanged (same object) when nothing is long."""
    if not _any_long(event):
        return event, ()
    rules = REFERRAL_RULES if isinstance(event, Referral) else ORDER_RULES
    warnings: list[str] = []
    fitted: Any = event
    for path, fields, read in _READERS[id(rules)]:
        if not any(value is not None and len(value) > ST_LENGTH for value in read(fitted)):
            continue
        cut = False
        for concrete in list(_expand(fitted, path)):
            value = _get(fitted, concrete)
            if isinstance(value, str) and len(value) > ST_LENGTH:
                fitted = _replace(fitted, concrete, value[:ST_LENGTH])
                cut = True
        if cut:
            warnings.append(f"{fields} shortened to {ST_LENGTH} characters")
    warnings.extend(_composed(fitted))
    result: E = fitted
    return result, tuple(warnings)


def _any_long(event: Event) -> bool:
    """A quick over-inclusive check (any string attribute of the parts that hold descriptive
    text, codes included): the exact rules only run when this finds something long."""
    patient, referrer = event.patient, event.referrer
    organisation = referrer.organisation
    parts: list[Any] = [
        event.provider,
        event.care_product,
        patient.name,
        patient.address,
        referrer.name,
        organisation,
        organisation.address if organisation else None,
        *event.questions,
    ]
    if isinstance(event, Referral):
        parts += [event.care_question, *event.icpc]
    else:
        parts += [event.collection, *event.tests, *(test.specimen for test in event.tests)]
    limit = ST_LENGTH // 4  # composed values join up to four parts
    for part in parts:
        if part is not None:
            for value in part.__dict__.values():
                if isinstance(value, str) and len(value) > limit:
                    return True
    return False


def _composed(event: Event) -> Iterator[str]:
    """Warnings for the surname as used and the street line, which `datatypes` caps."""
    xcn = ("PRD-2.1.1", "OBR-16.2.1", "PV1-8.2.1")
    if not isinstance(event, Referral):
        xcn = ("ORC-10.2.1", "ORC-12.2.1", "OBR-16.2.1")
    if len(surname_as_used(event.patient.name)) > ST_LENGTH:
        yield f"PID-5.1.1 shortened to {ST_LENGTH} characters"
    if len(surname_as_used(event.referrer.name)) > ST_LENGTH:
        yield f"{', '.join(xcn)} shortened to {ST_LENGTH} characters"
    if event.patient.address and len(street_line(event.patient.address)) > ST_LENGTH:
        yield f"PID-11.1.1 shortened to {ST_LENGTH} characters"
    organisation = event.referrer.organisation
    if organisation and organisation.address:
        field = "PRD-3.1.1" if isinstance(event, Referral) else "ORC-22.1.1"
        if len(street_line(organisation.address)) > ST_LENGTH:
            yield f"{field} shortened to {ST_LENGTH} characters"


def _joined(prefix: str | None, family: str | None) -> str:
    return f"{prefix} {family}" if prefix and family else family or ""


PARTNER_SEPARATOR: Final = "-"


def surname_as_used(name: PersonName) -> str:
    """The surname a person goes by, composed from `name_usage` (unescaped, uncapped).

    own          prefix + family                     "van der Berg"
    partner      partner_prefix + partner_family     "de Vries"
    partner_own  partner name, "-", own name         "de Vries-van der Berg"
    own_partner  own name, "-", partner name         "van der Berg-de Vries"

    Prefixes stay lower case as written; a usage that needs a missing partner name falls back to
    the own name (schemas refuse that combination, this only keeps mapping total).
    """
    own = _joined(name.prefix, name.family)
    partner = _joined(name.partner_prefix, name.partner_family)
    usage = name.name_usage
    if not partner or usage == "own":
        return own
    if usage == "partner":
        return partner
    if usage == "partner_own":
        return f"{partner}{PARTNER_SEPARATOR}{own}"
    return f"{own}{PARTNER_SEPARATOR}{partner}"


def street_line(value: Address) -> str:
    """XAD-1.1 `<street> <number><addition>` (unescaped, uncapped)."""
    return f"{value.street} {value.house_number}{value.house_number_addition or ''}"


def _expand(model: Any, path: Path) -> Iterator[tuple[str | int, ...]]:
    """Concrete paths (with tuple indexes) for `path`; absent optional parts yield nothing."""
    if not path:
        yield ()
        return
    head, *rest = path
    current = getattr(model, head, None)
    if current is None:
        return
    if rest and rest[0] == "*":
        for index, item in enumerate(current):
            for tail in _expand(item, tuple(rest[1:])):
                yield (head, index, *tail)
        return
    for tail in _expand(current, tuple(rest)):
        yield (head, *tail)


def _get(model: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        model = model[step] if isinstance(step, int) else getattr(model, step)
    return model


def _replace(model: Any, path: tuple[str | int, ...], new: Any) -> Any:
    """A copy of a frozen model with the value at `path` replaced (already valid: shorter)."""
    head, *rest = path
    if isinstance(head, int):
        items = list(model)
        items[head] = _replace(items[head], tuple(rest), new) if rest else new
        return tuple(items)
    assert isinstance(model, BaseModel)
    if not rest:
        return model.model_copy(update={head: new})
    return model.model_copy(update={head: _replace(getattr(model, head), tuple(rest), new)})
