"""The order messages: ORM_O01 (`orm-v3`, `orm-lfdv2`) and OML_O21 (`oml-v3`) share one builder.

Segment order: `MSH [NTE cluster] [NTE attachment list] PID [PV1 [PV2]] [IN1] ORC OBR
[{OBX [NTE]}] {ORC OBR [NTE]}`. The first ORC/OBR is the request as a whole (the care product,
placer number `<zd>^<platform>`) with every observation; each test (bepaling) follows as its
own ORC/OBR, without observations, with the version's placer number for it (no EI namespace,
so it fits ORC-2's 22 characters), all sharing the ZD number as placer group number (ORC-4) so
a receiver can keep them together. OML_O21 adds a TQ1 after every ORC (its TIMING group) and
an SPM after a test's OBR (and NTE) when the test has a specimen. The field-by-field tables
are in `orm-v3.md`, `orm-lfdv2.md` and `oml-v3.md`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Final

from mappings import countries, observations
from mappings.checked import TooLong, Writers
from mappings.context import MappedMessage, MappingContext
from mappings.datatypes import (
    ADDRESS_OFFICE,
    AGB_AUTHORITY,
    HELPERS,
    PRODUCT_OBR,
    address_expressions,
    coded_part,
    constant_coded,
    entity_id,
    phone_part,
    practitioner_of,
    xad_part,
)
from mappings.datetimes import hl7_date, hl7_timestamp
from mappings.escape import escape, escape_ft
from mappings.frame import finish
from mappings.patient import in1, pid
from mappings.profile import WireProfile
from mappings.templates import Layout, Part
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
_TEN: Final = ("",) * 10

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
    referrer = practitioner_of(event.referrer.agb, event.referrer.big, event.referrer.name, w)
    timing = tq1(event, w) if wire.lab_order else ""
    orc = _OrcTemplate(event, zd_number, referrer, w)
    body.append(orc(zd_number))
    if timing:
        body.append(timing)
    product = event.care_product
    body.append(PRODUCT_OBR[product.code is not None][w](zd_number, product, system, referrer))
    collection = event.collection
    number = observations.text(*CLINICAL_INFO, event.clinical_info, system, w, body)
    instructions = collection.instructions if collection else None
    number = observations.text(*COLLECTION_INSTRUCTIONS, instructions, system, w, body, number)
    number = observations.questions(event.questions, system, w, body, number)
    observations.attachments(event.attachments, system, w, body, number)

    for number, test in enumerate(event.tests, 1):
        placer = w.EI(escape(placer_number(event.zd_number, number, test)))
        test_system = system if test.coding_system == LOCAL_CODING_SYSTEM else test.coding_system
        body.append(orc(placer))
        if timing:
            body.append(timing)
        specimen = test.specimen
        body.append(
            _TEST_OBR[test.code is not None, specimen is not None][w](
                str(number + 1), placer, test, escape(test_system), referrer
            )
        )
        if specimen is not None and specimen.container is not None:
            container = constant_coded(*CONTAINER, system, w)
            body.append(observations.note(1, escape_ft(specimen.container), container, w))
        if specimen is not None and wire.lab_order:
            body.append(spm(specimen, w))
    return body


# Segment templates (`mappings.templates`), by what the request has.
_SPS: Final = ("SPS", (("sub_SPS_1", ("$specimen",)),))
_TEST_OBR: Final = {
    (with_code, specimen): Layout(
        "OBR", "=number", "=placer", "", coded_part("test", with_code), *_TEN,
        _SPS if specimen else "", "=referrer",
        params=("number", "placer", "test", "test_system", "referrer"),
        values={
            "test_code": "test.code or ''",
            "test_text": "test.name or ''",
            "specimen": "test.specimen.type",
        },
    )
    for with_code in (True, False)
    for specimen in (True, False)
}  # fmt: skip
_PLACER: Final = "\x01"  # a stand-in for ORC-2: no escaped value holds a raw control character


class _OrcTemplate:
    """The ORC segments of one request: all alike but for ORC-2 (the placer number), so
    joined once with a stand-in, and ORC-2 checked against its limit as the join does."""

    __slots__ = ("head", "limit", "tail")

    def __init__(self, event: DiagnosticRequest, group: str, xcn: str, w: Writers) -> None:
        self.head, self.tail = _orc(event, _PLACER, group, xcn, w).split(_PLACER)
        self.limit = w.limits["ORC"][1][1]

    def __call__(self, placer: str) -> str:
        if len(placer) > self.limit:
            raise TooLong
        return self.head + placer + self.tail


_TQ1: Final = Layout(
    "TQ1", "1", *("",) * 5, "=start", "", "=priority", params=("start", "priority")
)


def tq1(event: DiagnosticRequest, w: Writers) -> str:
    """TQ1 (OML_O21 TIMING): TQ1-1 `1`, TQ1-7 start = `collection.requested_date`
    (`YYYYMMDD`), TQ1-9 priority `R^Routine^HL70485` / `S^Stat^HL70485`."""
    collection = event.collection
    requested = collection.requested_date if collection else None
    start = hl7_date(requested) if requested is not None else ""
    return _TQ1[w](start, TQ1_PRIORITY[event.priority])


_SPM: Final = {
    container: Layout(
        "SPM", "1", "", "", ("CWE", ("$type",)), *("",) * 22,
        ("CE_CWE", ("", "$container")) if container else "",
        params=("specimen",),
        values={"type": "specimen.type", "container": "specimen.container"},
    )
    for container in (True, False)
}  # fmt: skip


def spm(specimen: Specimen, w: Writers) -> str:
    """SPM (OML_O21 SPECIMEN): SPM-1 `1`, SPM-4 the specimen type as code (no coding system
    is known), SPM-27 the container as text `^<container>`."""
    return _SPM[specimen.container is not None][w](specimen)


_PV1: Final = Layout(
    "PV1", "1", OUTPATIENT, ("PL", ("$location_id", *("",) * 7, "$location_name")),
    params=("collection",),
    values={
        "location_id": "collection.location_id or ''",
        "location_name": "collection.location_name or ''",
    },
)  # fmt: skip
_PV2: Final = Layout("PV2", *("",) * 7, "=date", params=("date",))


def visit(collection: Collection | None, w: Writers) -> list[str]:
    """PV1 (patient class `O`, PV1-3 the collection location as `<id>^^^^^^^^<name>`) when
    there is a collection; PV2-8 (expected date) the requested collection date, if any."""
    if collection is None:
        return []
    out = [_PV1[w](collection)]
    if collection.requested_date is not None:
        out.append(_PV2[w](hl7_date(collection.requested_date)))
    return out


@functools.cache
def _orc_layout(
    hl7_24: bool,
    callback: bool,
    organisation: bool,
    organisation_agb: bool,
    organisation_address: bool,
    organisation_phone: bool,
) -> Layout:
    """The ORC template for a request whose referrer has these values: ORC-10 and ORC-12 the
    referrer (XCN), ORC-14 the callback phone, ORC-17 the organisation as CE, ORC-21 as XON
    (2.4 or 2.5.1 layout), ORC-22 its address, ORC-23 its phone."""
    if not organisation:
        coded_org: Part = ""
        name: Part = ""
    elif organisation_agb:
        coded_org = ("CE_CWE", ("$org_agb", "$org_name", AGB_AUTHORITY))
        name = (
            ("XON", ("$org_name", "", "$org_agb", "", "", AGB_AUTHORITY, "XX"))
            if hl7_24
            else ("XON", ("$org_name", "", "", "", "", AGB_AUTHORITY, "XX", "", "", "$org_agb"))
        )
    else:
        coded_org = ("CE_CWE", ("", "$org_name"))
        name = ("XON", ("$org_name",))
    return Layout(
        "ORC", "=control", "=placer", "", "=group", "", "", "=priority", "", "=created",
        "=xcn", "", "=xcn", "",
        phone_part("callback", "WPN", "PH") if callback else "",
        "", "", coded_org, "", "", "", name,
        xad_part(ADDRESS_OFFICE) if organisation_address else "",
        phone_part("org_phone", "WPN", "PH") if organisation_phone else "",
        params=("referrer", "control", "placer", "group", "priority", "created", "xcn"),
        values={
            "_organisation": "referrer.organisation",
            "_address": "_organisation.address",
            "callback": "referrer.phone",
            "org_name": "_organisation.name",
            "org_agb": "_organisation.agb",
            "org_phone": "_organisation.phone",
            **address_expressions("_address"),
        },
        helpers=HELPERS,
    )  # fmt: skip


def _orc(event: DiagnosticRequest, placer: str, group: str, xcn: str, w: Writers) -> str:
    referrer = event.referrer
    organisation = referrer.organisation
    layout = _orc_layout(
        w.hl7_version == "2.4",
        referrer.phone is not None,
        organisation is not None,
        organisation is not None and organisation.agb is not None,
        organisation is not None and organisation.address is not None,
        organisation is not None and organisation.phone is not None,
    )
    return layout[w](
        referrer,
        ORDER_CONTROL[event.action],
        placer,
        group,
        components("", "", "", "", "", PRIORITY[event.priority]),
        hl7_timestamp(event.created_at),
        xcn,
    )
