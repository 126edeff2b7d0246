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
    NameParts,
    address,
    coded,
    email,
    entity_id,
    name_parts,
    organisation_location,
    person_name,
    phone,
    practitioner,
    practitioner_ids,
    telecoms,
)
from mappings.datetimes import hl7_timestamp
from mappings.escape import escape
from mappings.frame import finish
from mappings.patient import in1, pid
from mappings.profile import WireProfile
from schemas import Referral, Referrer

REFERRAL_STATUS: Final = {"new": "P", "cancel": "C"}
PRIORITY: Final = {"routine": "R", "urgent": "S"}
ICPC: Final = "ICPC"
WORKING_DIAGNOSIS: Final = "W"
ORGANISATION_PHONE_NOTE: Final = "organisation"
NOT_APPLICABLE: Final = "N"  # HL7 table 0004 patient class
_ELEVEN_EMPTY: Final = ("",) * 11


def render_referral(event: Referral, ctx: MappingContext, wire: WireProfile) -> MappedMessage:
    organisation = event.referrer.organisation
    warnings = countries.unknown_codes(
        ("PID-11.6", event.patient.address),
        ("PRD-3.6", organisation.address if organisation else None),
    )
    body = functools.partial(_body, event, ctx, wire)
    return finish(ctx, wire, wire.message_type(event.action), body, warnings, event.attachments)


def _body(event: Referral, ctx: MappingContext, wire: WireProfile, w: Writers) -> list[str]:
    """Every segment after MSH, joined by `w`."""
    system = wire.local_coding_system
    hl7_24 = wire.hl7_24
    platform = ctx.platform_authority
    zd_number = entity_id(event.zd_number, platform, w)
    name = name_parts(event.referrer.name, w)
    referrer = practitioner(event.referrer.agb, event.referrer.big, event.referrer.name, w, name)
    body = [
        w.RF1(
            REFERRAL_STATUS[event.action],
            PRIORITY[event.priority],
            "",
            "",
            "",
            zd_number,
            hl7_timestamp(event.created_at),
            "",
            "",
            coded(event.care_question.code, event.care_question.text, system, w),
        ),
        referring_provider(event.referrer, w, hl7_24, name),
        w.PRD(
            "RT",
            "",
            "",
            organisation_location(event.provider.name, event.provider.agb, w, hl7_24),
            "",
            "",
            # 2.4 has no PL-10: the provider's AGB is its PRD-7 identifier there.
            w.PRD_7(escape(event.provider.agb), AGB_AUTHORITY)
            if hl7_24 and event.provider.agb
            else "",
        ),
        pid(event.patient, event.zd_number, event.provider, platform, w),
        *in1(event.patient.insurance, w),
    ]
    body.extend(
        w.DG1(str(number), "", coded(item.code, item.text, ICPC, w), "", "", WORKING_DIAGNOSIS)
        for number, item in enumerate(event.icpc, 1)
    )
    body.append(
        w.OBR(
            "1",
            zd_number,
            "",
            coded(event.care_product.code, event.care_product.name, system, w),
            *_ELEVEN_EMPTY,
            referrer,
        )
    )
    body.extend(
        observations.obx_segments(
            [
                *observations.letter(event.letter, system, w),
                *observations.questions(event.questions, system, w),
                *observations.attachments(event.attachments, system, w),
            ],
            w,
        )
    )
    body.append(w.PV1("1", NOT_APPLICABLE, "", "", "", "", "", referrer))
    if event.cluster is not None:
        body.append(observations.cluster_note(1, event.cluster, system, w))
    return body


def referring_provider(
    referrer: Referrer, w: Writers, hl7_24: bool = False, name: NameParts | None = None
) -> str:
    """PRD RP: name, the organisation's address and location (name, AGB), then telecom:
    the referrer's own (intercollegiate) phone, e-mail, and the organisation's phone marked
    `organisation` in XTN-9; PRD-7 the AGB and BIG numbers. In 2.4 (no PL-10) the
    organisation's AGB is a third PRD-7 repetition marked `organisation` in PI-3."""
    organisation = referrer.organisation
    organisation_agb = organisation.agb if organisation and hl7_24 else None
    return w.PRD(
        "RP",
        person_name(referrer.name, w, name),
        address(organisation.address, w, ADDRESS_OFFICE) if organisation else "",
        organisation_location(organisation.name, organisation.agb, w, hl7_24)
        if organisation
        else "",
        telecoms(
            (
                phone(referrer.phone, "WPN", "PH", w),
                email(referrer.email, w),
                phone(organisation.phone, "WPN", "PH", w, ORGANISATION_PHONE_NOTE)
                if organisation
                else "",
            )
        ),
        "",
        practitioner_ids(referrer.agb, referrer.big, w, organisation_agb),
    )
