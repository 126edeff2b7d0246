"""Read every mapped value back with python-hl7, as a receiver would, and compare it with the
event: what goes in must come out unchanged (line breaks in FT/TX come back as CR)."""

from __future__ import annotations

import base64

import hl7

from mappings import map_event
from mappings.datatypes import surname_as_used
from mappings.observations import question_code
from schemas import DiagnosticRequest, Referral
from tests.mappings.helpers import context, read_back, value


def _letter_lines(text: str) -> str:
    return text.replace("\r\n", "\r").replace("\n", "\r")


def test_referral_values_come_back(referral: Referral) -> None:
    message = read_back(map_event("ref-v2", referral, context()))
    patient = referral.patient
    assert patient.bsn is not None
    assert patient.address is not None
    assert value(message, "PID.F3.R1.C1") == patient.bsn
    assert value(message, "PID.F3.R1.C4") == "NLMINBIZA"
    assert value(message, "PID.F3.R1.C5") == "NNNLD"
    assert value(message, "PID.F3.R2.C1") == referral.zd_number
    assert value(message, "PID.F3.R2.C5") == "VN"
    assert value(message, "PID.F5.R1.C1.S1") == "van der Berg"
    assert value(message, "PID.F5.R1.C1.S2") == patient.name.prefix
    assert value(message, "PID.F5.R1.C1.S3") == patient.name.family
    assert value(message, "PID.F5.R1.C2") == patient.name.given
    assert value(message, "PID.F5.R1.C3") == patient.name.initials
    assert value(message, "PID.F5.R1.C7") == "L"
    assert value(message, "PID.F7") == "19610412"
    assert value(message, "PID.F8") == "M"
    address = patient.address
    assert value(message, "PID.F11.R1.C1.S1") == "Dorpsstraat 12A"
    assert value(message, "PID.F11.R1.C1.S2") == address.street
    assert value(message, "PID.F11.R1.C1.S3") == address.house_number
    assert value(message, "PID.F11.R1.C2") == address.house_number_addition
    assert value(message, "PID.F11.R1.C3") == address.city
    assert value(message, "PID.F11.R1.C5") == address.postcode == "1234 AB"
    assert value(message, "PID.F11.R1.C6") == "NLD"  # ISO 3166-1 alpha-3 of `NL`
    assert value(message, "PID.F11.R1.C7") == "H"
    assert value(message, "PID.F13.R1.C1") == patient.phone
    assert value(message, "PID.F13.R1.C2") == "PRN"
    assert value(message, "PID.F13.R2.C1") == patient.mobile
    assert value(message, "PID.F13.R2.C3") == "CP"
    assert value(message, "PID.F13.R3.C4") == patient.email
    assert patient.insurance is not None
    assert value(message, "IN1.F3.R1.C1") == patient.insurance.uzovi
    assert value(message, "IN1.F36") == patient.insurance.policy_number

    assert value(message, "RF1.F1") == "P"
    assert value(message, "RF1.F2") == "R"
    assert value(message, "RF1.F6.R1.C1") == referral.zd_number
    assert value(message, "RF1.F7") == "20261120091500+0100"
    assert value(message, "RF1.F10.R1.C1") == referral.care_question.code
    assert value(message, "RF1.F10.R1.C2") == referral.care_question.text
    assert value(message, "DG1.F3.R1.C1") == referral.icpc[0].code
    assert value(message, "DG1.F3.R1.C2") == referral.icpc[0].text
    assert value(message, "DG1.F3.R1.C3") == "ICPC"
    assert value(message, "DG1.F6") == "W"
    assert value(message, "OBR.F4.R1.C1") == referral.care_product.code
    assert value(message, "OBR.F4.R1.C2") == referral.care_product.name
    assert value(message, "OBR.F4.R1.C3") == "L"

    referrer = referral.referrer
    assert value(message, "PRD.F1") == "RP"
    assert value(message, "PRD.F2.R1.C1.S3") == referrer.name.family
    assert value(message, "PRD.F7.R1.C1") == referrer.agb
    assert value(message, "PRD.F7.R2.C1") == referrer.big
    assert value(message, "PRD2.F1") == "RT"
    assert value(message, "PRD2.F4.R1.C9") == referral.provider.name
    assert value(message, "PRD2.F4.R1.C10.S1") == referral.provider.agb
    for key in ("OBR.F16", "PV1.F8"):
        assert value(message, f"{key}.R1.C1") == referrer.agb
        assert value(message, f"{key}.R1.C9") == "VEKTIS"
        assert value(message, f"{key}.R2.C1") == referrer.big
        assert value(message, f"{key}.R2.C9") == "BIG"

    letter = referral.letter
    assert letter.history is not None
    assert value(message, "OBX3.F5") == _letter_lines(letter.history)
    assert value(message, "OBX1.F5") == letter.reason
    assert value(message, "OBX6.F5.R1.C1") == "N"
    assert value(message, "OBX7.F5.R1.C2") == "binnen 4 weken"
    attachment = referral.attachments[0]
    assert value(message, "OBX8.F2") == "ED"
    assert value(message, "OBX8.F5.R1.C5") == attachment.data
    assert base64.b64decode(value(message, "OBX8.F5.R1.C5")).startswith(b"%PDF-")
    assert value(message, "NTE.F3") == attachment.filename
    assert referral.cluster is not None
    assert value(message, "NTE2.F3.R1") == referral.cluster.code
    assert value(message, "NTE2.F3.R2") == referral.cluster.name


def test_full_referral_values_come_back(full_referral: Referral) -> None:
    message = read_back(map_event("ref-v2", full_referral, context()))
    patient = full_referral.patient
    assert value(message, "PID.F3.R1.C1") == full_referral.zd_number  # no BSN: ZD first
    assert value(message, "PID.F3.R2.C1") == patient.local_id
    assert value(message, "PID.F3.R2.C4") == full_referral.provider.agb
    assert value(message, "PID.F3.R2.C5") == "PI"
    assert value(message, "PID.F5.R1.C1.S1") == surname_as_used(patient.name)
    assert value(message, "PID.F5.R1.C1.S1") == "van der Berg-de Wit-Smits"
    assert value(message, "PID.F5.R1.C1.S4") == patient.name.partner_prefix
    assert value(message, "PID.F5.R1.C1.S5") == patient.name.partner_family
    assert value(message, "RF1.F2") == "S"
    assert value(message, "RF1.F10.R1.C1") == ""
    assert value(message, "RF1.F10.R1.C2") == full_referral.care_question.text
    assert value(message, "DG12.F3.R1.C1") == "K86"
    letter = full_referral.letter
    assert letter.examination is not None
    assert letter.remarks is not None
    assert value(message, "OBX4.F5") == _letter_lines(letter.examination)
    assert value(message, "OBX7.F5") == letter.remarks
    open_question = full_referral.questions[2]
    assert isinstance(open_question.answer, str)
    assert value(message, "OBX10.F3.R1.C1") == question_code(open_question)
    assert value(message, "OBX10.F3.R1.C2") == open_question.title
    assert value(message, "OBX10.F5") == _letter_lines(open_question.answer)
    assert value(message, "OBX11.F2") == "DT"
    assert value(message, "OBX11.F5") == "20261030"
    assert value(message, "OBX12.F5") == ""
    assert value(message, "OBX12.F11") == "X"
    for number, attachment in enumerate(full_referral.attachments, start=13):
        assert value(message, f"OBX{number}.F5.R1.C5") == attachment.data
        assert value(message, f"NTE{number - 12}.F3.R1") == attachment.filename
    assert value(message, "OBX14.F5.R1.C2") == "IM"
    assert value(message, "OBX14.F5.R1.C3") == "PNG"
    assert value(message, "OBX15.F5.R1.C3") == "JPEG"
    assert value(message, "OBX16.F5.R1.C2") == "TEXT"
    assert value(message, "NTE4.F3.R2") == full_referral.attachments[3].description
    organisation = full_referral.referrer.organisation
    assert organisation is not None
    assert organisation.address is not None
    assert value(message, "PRD.F3.R1.C5") == organisation.address.postcode == "3511 AB"
    assert value(message, "PRD.F5.R3.C1") == organisation.phone


def test_diagnostic_request_values_come_back(full_diagnostic_request: DiagnosticRequest) -> None:
    event = full_diagnostic_request
    message = read_back(map_event("orm-v3", event, context()))
    assert event.cluster is not None
    assert value(message, "NTE.F3.R1") == event.cluster.code
    assert value(message, "NTE2.F3.R1") == event.attachments[0].filename
    assert value(message, "PID.F3.R1.C1") == event.patient.bsn
    assert value(message, "PID.F3.R3.C1") == event.patient.local_id
    assert value(message, "PID.F5.R1.C1.S1") == "de Vries-El Amrani"
    collection = event.collection
    assert collection is not None
    assert collection.instructions is not None
    assert value(message, "PV1.F2") == "O"
    assert value(message, "PV1.F3.R1.C1") == collection.location_id
    assert value(message, "PV1.F3.R1.C9") == collection.location_name
    assert value(message, "PV2.F8") == "20261124"
    assert value(message, "IN1.F36") == "P-998877"

    orcs = message.segments("ORC")
    assert len(orcs) == 1 + len(event.tests)
    assert value(message, "ORC.F1") == "NW"
    assert value(message, "ORC.F2.R1.C1") == event.zd_number
    assert value(message, "ORC.F7.R1.C6") == "S"
    assert value(message, "ORC.F12.R1.C1") == event.referrer.agb
    assert value(message, "ORC.F12.R2.C1") == event.referrer.big
    assert value(message, "ORC.F17.R1.C2") == "Gezondheidscentrum Oost"
    assert value(message, "ORC.F21.R1.C10") == "01054322"
    placers = set()
    for number, test in enumerate(event.tests, start=2):
        placers.add(value(message, f"ORC{number}.F2.R1.C1"))
        assert value(message, f"ORC{number}.F4.R1.C1") == event.zd_number
        assert value(message, f"OBR{number}.F1") == str(number)
        assert value(message, f"OBR{number}.F4.R1.C1") == test.code
        assert value(message, f"OBR{number}.F4.R1.C2") == test.name
        assert value(message, f"OBR{number}.F4.R1.C3") == test.coding_system
        assert value(message, f"OBR{number}.F15") == (test.specimen.type if test.specimen else "")
    assert len(placers) == len(event.tests)
    assert value(message, "NTE3.F3") == event.attachments[0].filename
    assert value(message, "NTE4.F3") == "EDTA-buis"
    assert event.clinical_info is not None
    assert value(message, "OBX.F5") == event.clinical_info
    assert value(message, "OBX2.F5") == _letter_lines(collection.instructions)
    assert value(message, "OBX3.F5.R1.C1") == "Y"
    assert value(message, "OBX4.F5.R1.C2") == "bloedverdunners"
    assert value(message, "OBX4.F5.R2.C2") == "schildkliermedicatie"
    assert value(message, "OBX5.F5.R1.C5") == event.attachments[0].data


def test_cancel_uses_cancel_codes(
    referral: Referral, diagnostic_request: DiagnosticRequest
) -> None:
    ref = read_back(
        map_event("ref-v2", referral.model_copy(update={"action": "cancel"}), context())
    )
    assert str(ref.segment("MSH")[9]) == "REF^I14^REF_I12"
    assert value(ref, "RF1.F1") == "C"
    orm = read_back(
        map_event("orm-v3", diagnostic_request.model_copy(update={"action": "cancel"}), context())
    )
    assert {str(orc[1]) for orc in orm.segments("ORC")} == {"CA"}


def test_msh_fields(referral: Referral) -> None:
    mapped = map_event("ref-v2", referral, context())
    msh = read_back(mapped).segment("MSH")
    assert isinstance(msh, hl7.Segment)
    assert [str(msh[n]) for n in range(3, 13)] == [
        "INTEGRATOR",
        "",
        "HIS",
        "ZNOORD",
        "20261120091630+0100",
        "",
        "REF^I12^REF_I12",
        mapped.control_id,
        "P",
        "2.5.1",
    ]
    assert [str(msh[n]) for n in (15, 16, 17, 18)] == ["", "", "NLD", "UNICODE UTF-8"]
    assert mapped.message_type == "REF^I12^REF_I12"
    assert mapped.version == "ref-v2"
