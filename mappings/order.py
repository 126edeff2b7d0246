"""The order messages: ORM_O01 (`orm-v3`, `orm-lfdv2`) and OML_O21 (`oml-v3`) share one builder.

Segment order: `MSH [NTE cluster] [NTE attachment list] PID [PV1 [PV2]] [IN1] ORC OBR {OBX [NTE]}
{ORC OBR [NTE]}`. The first ORC/OBR is the request as a whole (the care product, placer number
`<zd>^<platform>`); each test (bepaling) follows as its own ORC/OBR with the version's placer
number for it (no EI namespace, so it fits ORC-2's 22 characters), all sharing the ZD number as
placer group number (ORC-4) so a receiver can keep them together. OML_O21 adds a TQ1 after
every ORC (its TIMING group) and an SPM after a test's OBR (and NTE) when the test has a
specimen. The field-by-field tables are in `orm-v3.md`, `orm-lfdv2.md` and `oml-v3.md`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Final

from mappings import countries, observations
from mappings.checked import Writers
from mappings.context import MappedMessage, MappingContext
from mappings.datatypes import (
    ADDRESS_OFFICE,
    address,
    coded,
    constant_coded,
    entity_id,
    organisation_coded,
    organisation_name,
    phone,
    practitioner,
)
from mappings.datetimes import hl7_date, hl7_timestamp
from mappings.escape import escape, escape_ft, escape_opt
from mappings.frame import finish
from mappings.patient import in1, pid
from mappings.profile import WireProfile
from mappings.writer import components
from schemas import Collection, DiagnosticRequest, LabTest, Specimen

ORDER_CONTROL: Final = {"new": "NW", "cancel": "CA"}
PRIORITY: Final = {"routine": "R", "urgent": "S"}
TQ1_PRIORITY: Final = {"routine": "R^Routine^HL70485", "urgent": "S^Stat^HL70485"}
OUTPATIENT: Final = "O"
LOCAL_CODING_SYSTEM: Final = "L"

CLINICAL_INFO: Final = ("CLINICAL-INFO", "Klinische gegevens")
COLLECTION_INSTRUCTIONS: Final = ("COLLECTION-INSTR", "Afname-instructies")
CONTAINER: Final = ("CONTAINER", "Container")

PlacerNumber = Callable[[str, int, LabTest], str]
"""(zd number, 1-based test number, test) -> the test's placer order number (unescaped). It is
sent as EI-1 alone: with the platform authority as EI-2 it would pass ORC-2's 22 characters."""


def render_order(
    event: DiagnosticRequest, ctx: MappingContext, wire: WireProfile, placer_number: PlacerNumber
) -> MappedMessage:
    organisation = event.referrer.organisation
    warnings = countries.unknown_codes(
        ("PID-11.6", event.patient.address),
        ("ORC-22.6", organisation.address if organisation else None),
    )
    body = functools.partial(_body, event, ctx, wire, placer_number)
    return finish(ctx, wire, wire.message_type(event.action), body, warnings, event.attachments)


def _body(
    event: DiagnosticRequest,
    ctx: MappingContext,
    wire: WireProfile,
    placer_number: PlacerNumber,
    w: Writers,
) -> list[str]:
    """Every segment after MSH, joined by `w`."""
    system = wire.local_coding_system
    platform = ctx.platform_authority
    body: list[str] = []
    if event.cluster is not None:
        body.append(observations.cluster_note(len(body) + 1, event.cluster, system, w))
    if event.attachments:
        body.append(observations.attachment_list_note(len(body) + 1, event.attachments, system, w))
    body.append(pid(event.patient, event.zd_number, event.provider, platform, w))
    body.extend(visit(event.collection, w))
    body.extend(in1(event.patient.insurance, w))

    zd_number = entity_id(event.zd_number, platform, w)
    ordering = _ordering_fields(event, wire.hl7_24, w)
    referrer = ordering[0]
    timing = tq1(event, w) if wire.lab_order else ""
    body.append(_orc(event, zd_number, zd_number, ordering, w))
    if timing:
        body.append(timing)
    body.append(
        w.OBR(
            "1",
            zd_number,
            "",
            coded(event.care_product.code, event.care_product.name, system, w),
            *[""] * 11,
            referrer,
        )
    )
    collection = event.collection
    body.extend(
        observations.obx_segments(
            [
                *observations.text(*CLINICAL_INFO, event.clinical_info, system, w),
                *observations.text(
                    *COLLECTION_INSTRUCTIONS,
                    collection.instructions if collection else None,
                    system,
                    w,
                ),
                *observations.questions(event.questions, system, w),
                *observations.attachments(event.attachments, system, w),
            ],
            w,
        )
    )

    for number, test in enumerate(event.tests, 1):
        placer = w.EI(escape(placer_number(event.zd_number, number, test)))
        test_system = system if test.coding_system == LOCAL_CODING_SYSTEM else test.coding_system
        body.append(_orc(event, placer, zd_number, ordering, w))
        if timing:
            body.append(timing)
        specimen = test.specimen
        body.append(
            w.OBR(
                str(number + 1),
                placer,
                "",
                coded(test.code, test.name, escape(test_system), w),
                *[""] * 10,
                w.SPS(w.sub_SPS_1(escape(specimen.type))) if specimen else "",
                referrer,
            )
        )
        if specimen is not None and specimen.container is not None:
            container = constant_coded(*CONTAINER, system, w)
            body.append(observations.note(1, escape_ft(specimen.container), container, w))
        if specimen is not None and wire.lab_order:
            body.append(spm(specimen, w))
    return body


def tq1(event: DiagnosticRequest, w: Writers) -> str:
    """TQ1 (OML_O21 TIMING): TQ1-1 `1`, TQ1-7 start = `collection.requested_date`
    (`YYYYMMDD`), TQ1-9 priority `R^Routine^HL70485` / `S^Stat^HL70485`."""
    collection = event.collection
    requested = collection.requested_date if collection else None
    return w.TQ1(
        "1",
        *[""] * 5,
        hl7_date(requested) if requested is not None else "",
        "",
        TQ1_PRIORITY[event.priority],
    )


def spm(specimen: Specimen, w: Writers) -> str:
    """SPM (OML_O21 SPECIMEN): SPM-1 `1`, SPM-4 the specimen type as code (no coding system
    is known), SPM-27 the container as text `^<container>`."""
    return w.SPM(
        "1",
        *[""] * 2,
        w.CWE(escape(specimen.type)),
        *[""] * 22,
        coded(None, specimen.container, "", w) if specimen.container is not None else "",
    )


def visit(collection: Collection | None, w: Writers) -> list[str]:
    """PV1 (patient class `O`, PV1-3 the collection location as `<id>^^^^^^^^<name>`) when
    there is a collection; PV2-8 (expected date) the requested collection date, if any."""
    if collection is None:
        return []
    location = w.PL(
        escape_opt(collection.location_id), *[""] * 7, escape_opt(collection.location_name)
    )
    out = [w.PV1("1", OUTPATIENT, location)]
    if collection.requested_date is not None:
        out.append(w.PV2(*[""] * 7, hl7_date(collection.requested_date)))
    return out


def _ordering_fields(
    event: DiagnosticRequest, hl7_24: bool, w: Writers
) -> tuple[str, str, str, str, str, str]:
    """Escaped ORC/OBR values every order of the request shares, computed once:
    referrer XCN, callback phone, organisation CE, XON (2.4 or 2.5.1 layout), address, phone."""
    referrer = event.referrer
    organisation = referrer.organisation
    return (
        practitioner(referrer.agb, referrer.big, referrer.name, w),
        phone(referrer.phone, "WPN", "PH", w),
        organisation_coded(organisation, w),
        organisation_name(organisation, w, hl7_24),
        address(organisation.address, w, ADDRESS_OFFICE) if organisation else "",
        phone(organisation.phone, "WPN", "PH", w) if organisation else "",
    )


def _orc(
    event: DiagnosticRequest,
    placer: str,
    group: str,
    ordering: tuple[str, str, str, str, str, str],
    w: Writers,
) -> str:
    referrer, callback, org_coded, org_name, org_address, org_phone = ordering
    return w.ORC(
        ORDER_CONTROL[event.action],
        placer,
        "",
        group,
        "",
        "",
        components("", "", "", "", "", PRIORITY[event.priority]),
        "",
        hl7_timestamp(event.created_at),
        referrer,
        "",
        referrer,
        "",
        callback,
        "",
        "",
        org_coded,
        "",
        "",
        "",
        org_name,
        org_address,
        org_phone,
    )
