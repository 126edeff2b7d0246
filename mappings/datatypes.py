"""Builders for the composite data types every version shares: names, addresses, telecom,
practitioners, organisations, coded values.

They take schema objects and return finished, escaped HL7 text (components joined with `^`,
subcomponents with `&`); the segment builders only place them. Keeping the Dutch rules (name
parts, AGB/BIG identifiers, address parts) here means `ref-v1`, `orm-lfdv2` and `oml-v3` get them
unchanged. Where HL7 2.4 and 2.5.1 differ the builder takes `hl7_24`: 2.4 has no PL-10 and no
XON-10, so an organisation's AGB moves to PRD-7 (PI, marked `organisation` in PI-3) and to XON-3
(ID number). Every other component used here is at the same place in both versions (checked
against hl7apy's 2.4 and 2.5.1 tables); CE and CWE share the `code^text^system` components used.

Each builder joins with the version's `Writers` (`mappings.checked`), which check the standard's
lengths while joining; a builder does not cut anything itself.
"""

from __future__ import annotations

import functools
from typing import Final

from mappings.checked import Writers
from mappings.countries import ALPHA3
from mappings.escape import escape, escape_opt
from mappings.templates import REPEAT, Layout, Part, piece
from schemas import PersonName

AGB_AUTHORITY: Final = "VEKTIS"
BIG_AUTHORITY: Final = "BIG"
NAME_TYPE_LEGAL: Final = "L"
ADDRESS_HOME: Final = "H"
ADDRESS_OFFICE: Final = "O"


def coded(code: str | None, text: str | None, system: str, w: Writers) -> str:
    """CE/CWE `code^text^system`; without a code only the text travels (no coding system)."""
    if code is None:
        return w.coded("", escape_opt(text))
    return w.coded(escape(code), escape_opt(text), system)


@functools.lru_cache(maxsize=256)
def constant_coded(code: str, text: str, system: str, w: Writers) -> str:
    """`coded` of the platform's own codes (letter sections, attachments, cluster): the same
    text in every message of a version, so joined once."""
    return coded(code, text, system, w)


def entity_id(identifier: str, namespace: str, w: Writers) -> str:
    """EI `identifier^namespace`."""
    return w.EI(escape(identifier), escape(namespace))


PARTNER_SEPARATOR: Final = "-"


def _joined(prefix: str | None, family: str | None) -> str:
    return f"{prefix} {family}" if prefix and family else family or ""


def surname_as_used(name: PersonName) -> str:
    """The surname a person goes by, composed from `name_usage` (unescaped).

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


# Names and addresses as parts of a segment template (`mappings.templates`), with
# `name_expressions` and `address_expressions` giving their values.
FN_PART: Final[Part] = (
    "sub_FN",
    ("$as_used", "$prefix", "$family", "$partner_prefix", "$partner_family"),
)
XPN_PART: Final[Part] = ("XPN", (FN_PART, "$given", "$initials", "", "", "", NAME_TYPE_LEGAL))
_SAD_PART: Final[Part] = ("sub_SAD", ("$line", "$street", "$number"))


def xad_part(kind: str) -> Part:
    """XAD of `address` as a template part: its values come from `address_expressions`."""
    return ("XAD", (_SAD_PART, "$addition", "$city", "", "$postcode", "$country", kind))


def phone_part(value: str, use: str, equipment: str, note: str = "") -> Part:
    """`phone` as a template part, of the value `value`."""
    tail = ("", "", "", "", "", note) if note else ()
    return ("XTN", (f"${value}", use, equipment, *tail))


def email_part(value: str) -> Part:
    """`email` as a template part, of the value `value`."""
    return ("XTN", ("", "NET", "Internet", f"${value}"))


def repeated(*parts: Part | None) -> Part:
    """The parts that are not None as repetitions; none: an empty field."""
    present = tuple(part for part in parts if part is not None)
    return (REPEAT, present) if present else ""


def coded_part(name: str, with_code: bool = True) -> Part:
    """`coded` as a template part: values `<name>_code`, `<name>_text` (escaped here) and
    `<name>_system` (HL7 text); without a code only the text (`coded_values`)."""
    if with_code:
        return ("CE_CWE", (f"${name}_code", f"${name}_text", f"={name}_system"))
    return ("CE_CWE", ("", f"${name}_text"))


#: The OBR of what is asked for (a referral's product, a diagnostic request's order), by whether
#: the product has a code: OBR-2 the ZD number (placer), OBR-4 the product, OBR-16 the referrer.
PRODUCT_OBR: Final = {
    with_code: Layout(
        "OBR",
        "1",
        "=zd",
        "",
        coded_part("product", with_code),
        *("",) * 11,
        "=referrer",
        params=("zd", "product", "product_system", "referrer"),
        values={"product_code": "product.code or ''", "product_text": "product.name or ''"},
    )
    for with_code in (True, False)
}


def name_expressions(name: str) -> dict[str, str]:
    """The values of `XPN_PART` as expressions of a `PersonName` called `name`, for a
    template that takes the objects (`Layout(params=...)`, with `HELPERS`)."""
    return {
        "as_used": f"surname_as_used({name})",
        "prefix": f"{name}.prefix or ''",
        "family": f"{name}.family",
        "partner_prefix": f"{name}.partner_prefix or ''",
        "partner_family": f"{name}.partner_family or ''",
        "given": f"{name}.given or ''",
        "initials": f"{name}.initials or ''",
    }


def address_expressions(address: str) -> dict[str, str]:
    """The values of `xad_part` as expressions of an `Address` called `address`."""
    return {
        # XAD-1.1 `<street> <number><addition>` and the alpha-3 country, written out: a call
        # less each.
        "line": (
            f"f'{{{address}.street}} {{{address}.house_number}}"
            f'{{{address}.house_number_addition or ""}}\''
        ),
        "street": f"{address}.street",
        "number": f"{address}.house_number",
        "addition": f"{address}.house_number_addition or ''",
        "city": f"{address}.city",
        "postcode": f"{address}.postcode",
        "country": f"ALPHA3.get({address}.country, {address}.country)",
    }


ORGANISATION_NOTE: Final = "organisation"


# What the expressions above call.
HELPERS: Final = {"surname_as_used": surname_as_used, "ALPHA3": ALPHA3}


@functools.cache
def _practitioner(big: bool) -> Layout:
    return piece(
        repeated(
            ("XCN", ("$agb", FN_PART, "$given", "$initials", "", "", "", "", AGB_AUTHORITY)),
            ("XCN", ("$big", FN_PART, "$given", "$initials", "", "", "", "", BIG_AUTHORITY))
            if big
            else None,
        ),
        params=("agb", "big", "name"),
        values=name_expressions("name"),
        helpers=HELPERS,
    )


def practitioner_of(agb: str, big: str | None, name: PersonName, w: Writers) -> str:
    """`practitioner`, from a template: one call."""
    return _practitioner(big is not None)[w](agb, big, name)
