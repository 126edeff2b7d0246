"""The REF_I12 referral message, shared by `ref-v2` and `ref-v1` (HL7 2.4, its own profile).

Segment order: `MSH RF1 PRD(RP) PRD(RT) PID [IN1] [DG1…] OBR {OBX [NTE]} PV1 [NTE]`.

PV1 is always sent, although a referral creates no visit (patient class `N`, not applicable):
without it a trailing cluster NTE directly follows the last OBX (or its NTE), and REF_I12's
grammar then reads it as a note on that observation. PV1-8 carries the referrer as
referring doctor. The field-by-field tables are in `ref-v2.md` and `ref-v1.md`.
"""

from __future__ import annotations

import functools
from typing import Final

from mappings import countries, observations
from mappings.checked import Writers
from mappings.context import MappedMessage, MappingContext
from mappings.datatypes import (
    ADDRESS_OFFICE,
    AGB_AUTHORITY,
    BIG_AUTHORITY,
    HELPERS,
    ORGANISATION_NOTE,
    PRODUCT_OBR,
    XPN_PART,
    address_expressions,
    coded_part,
    email_part,
    entity_id,
    name_expressions,
    phone_part,
    practitioner_of,
    repeated,
    xad_part,
)
from mappings.datetimes import hl7_timestamp
from mappings.frame import finish
from mappings.patient import in1, pid
from mappings.profile import WireProfile
from mappings.templates import Layout
from schemas import Referral, Referrer

REFERRAL_STATUS: Final = {"new": "P", "cancel": "C"}
PRIORITY: Final = {"routine": "R", "urgent": "S"}
ICPC: Final = "ICPC"
WORKING_DIAGNOSIS: Final = "W"
ORGANISATION_PHONE_NOTE: Final = "organisation"
NOT_APPLICABLE: Final = "N"  # HL7 table 0004 patient class


def render_referral(event: Referral, ctx: MappingContext, wire: WireProfile) -> MappedMessage:
    organisation = event.referrer.organisation
    warnings = countries.unknown_codes(
        ("PID-11.6", event.patient.address),
        ("PRD-3.6", organisation.address if organisation else None),
    )
    body = functools.partial(_body, event, ctx, wire)
    return finish(ctx, wire, wire.message_type(event.action), body, warnings, event.attachments)


_EIGHT: Final = ("",) * 8
# Segment templates (`mappings.templates`), by what the event has.
_RF1: Final = {
    with_code: Layout(
        "RF1", "=status", "=priority", "", "", "", "=zd", "=created", "", "",
        coded_part("question", with_code),
        params=("event", "zd", "question_system"),
        values={
            "_question": "event.care_question",
            "status": "STATUS[event.action]",
            "priority": "PRIORITY[event.priority]",
            "created": "hl7_timestamp(event.created_at)",
            "question_code": "_question.code or ''",
            "question_text": "_question.text or ''",
        },
        helpers={"STATUS": REFERRAL_STATUS, "PRIORITY": PRIORITY, "hl7_timestamp": hl7_timestamp},
    )
    for with_code in (True, False)
}  # fmt: skip
_DG1: Final = {
    with_code: Layout(
        "DG1",
        "=number",
        "",
        coded_part("icpc", with_code),
        "",
        "",
        WORKING_DIAGNOSIS,
        params=("number", "item"),
        values={
            "icpc_code": "item.code or ''",
            "icpc_text": "item.text or ''",
            "icpc_system": repr(ICPC),
        },
    )
    for with_code in (True, False)
}
_PV1: Final = Layout(
    "PV1", "1", NOT_APPLICABLE, "", "", "", "", "", "=referrer", params=("referrer",)
)
_AGB_EI: Final = ("sub_EI", ("$agb", AGB_AUTHORITY))
_PL: Final = {
    agb: ("PL", (*_EIGHT, "$location", _AGB_EI) if agb else (*_EIGHT, "$location"))
    for agb in (True, False)
}
# PRD RT: 2.5.1 has the provider's AGB in PL-10, 2.4 in PRD-7.
_PRD_RT: Final = {
    (hl7_24, agb): Layout(
        "PRD", "RT", "", "", _PL[agb and not hl7_24], "", "",
        ("PRD_7", ("$agb", AGB_AUTHORITY)) if hl7_24 and agb else "",
        params=("provider",),
        values={"location": "provider.name", "agb": "provider.agb or ''"},
    )
    for hl7_24 in (True, False)
    for agb in (True, False)
}  # fmt: skip


@functools.cache
def _prd_rp(
    organisation: bool,
    with_address: bool,
    agb_in_location: bool,
    referrer_phone: bool,
    referrer_email: bool,
    organisation_phone: bool,
    big: bool,
    organisation_agb: bool,
) -> Layout:
    """The PRD RP template for a referrer with these values present."""
    return Layout(
        "PRD", "RP", XPN_PART,
        xad_part(ADDRESS_OFFICE) if with_address else "",
        _PL[agb_in_location] if organisation else "",
        repeated(
            phone_part("phone", "WPN", "PH") if referrer_phone else None,
            email_part("email") if referrer_email else None,
            phone_part("organisation_phone", "WPN", "PH", ORGANISATION_PHONE_NOTE)
            if organisation_phone
            else None,
        ),
        "",
        repeated(
            ("PRD_7", ("$referrer_agb", AGB_AUTHORITY)),
            ("PRD_7", ("$big", BIG_AUTHORITY)) if big else None,
            ("PRD_7", ("$agb", AGB_AUTHORITY, ORGANISATION_NOTE)) if organisation_agb else None,
        ),
        params=("referrer",),
        values={
            "_organisation": "referrer.organisation",
            "_name": "referrer.name",
            **name_expressions("_name"),
            "phone": "referrer.phone",
            "email": "referrer.email",
            "referrer_agb": "referrer.agb",
            "big": "referrer.big",
            "location": "_organisation.name",
            "agb": "_organisation.agb",
            "organisation_phone": "_organisation.phone",
            "_address": "_organisation.address",
            **address_expressions("_address"),
        },
        helpers=HELPERS,
    )  # fmt: skip


def _body(event: Referral, ctx: MappingContext, wire: WireProfile, w: Writers) -> list[str]:
    """Every segment after MSH, joined by `w` and its templates."""
    system = wire.local_coding_system
    hl7_24 = wire.hl7_24
    platform = ctx.platform_authority
    zd_number = entity_id(event.zd_number, platform, w)
    referrer = practitioner_of(event.referrer.agb, event.referrer.big, event.referrer.name, w)
    provider = event.provider
    body = [
        _RF1[event.care_question.code is not None][w](event, zd_number, system),
        referring_provider(event.referrer, w, hl7_24),
        _PRD_RT[hl7_24, bool(provider.agb)][w](provider),
        pid(event.patient, event.zd_number, event.provider, platform, w),
        *in1(event.patient.insurance, w),
    ]
    for number, item in enumerate(event.icpc, 1):
        body.append(_DG1[item.code is not None][w](str(number), item))
    product = event.care_product
    body.append(PRODUCT_OBR[product.code is not None][w](zd_number, product, system, referrer))
    number = observations.letter(event.letter, system, w, body)
    number = observations.questions(event.questions, system, w, body, number)
    observations.attachments(event.attachments, system, w, body, number)
    body.append(_PV1[w](referrer))
    if event.cluster is not None:
        body.append(observations.cluster_note(1, event.cluster, system, w))
    return body


def referring_provider(referrer: Referrer, w: Writers, hl7_24: bool = False) -> str:
    """PRD RP: name, the organisation's address and location (name, AGB), then telecom:
    the referrer's own (intercollegiate) phone, e-mail, and the organisation's phone marked
    `organisation` in XTN-9; PRD-7 the AGB and BIG numbers. In 2.4 (no PL-10) the
    organisation's AGB is a third PRD-7 repetition marked `organisation` in PI-3."""
    organisation = referrer.organisation
    if organisation is None:
        layout = _prd_rp(
            False,
            False,
            False,
            referrer.phone is not None,
            referrer.email is not None,
            False,
            referrer.big is not None,
            False,
        )
    else:
        layout = _prd_rp(
            True,
            organisation.address is not None,
            bool(organisation.agb) and not hl7_24,
            referrer.phone is not None,
            referrer.email is not None,
            organisation.phone is not None,
            referrer.big is not None,
            hl7_24 and organisation.agb is not None,
        )
    return layout[w](referrer)
