"""The wire facts of each message version (docs/product.md §3 table), separate from its lifecycle.

A mapper renders against a profile, so the next versions (`ref-v1` = `ref-v2` with HL7 2.4,
Latin-1 and coding system `99zda`; `orm-lfdv2`; `oml-v3`) reuse the same builders with their own
profile. The registry adds status dates and the mapper to these facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from mappings.charset import LATIN1, UTF8

EventType = Literal["referral", "diagnostic_request"]


@dataclass(frozen=True, slots=True)
class WireProfile:
    """What a receiver of one version sees in MSH and in local codes.

    `local_coding_system` is the coding system of codes the platform defines (care products,
    letter sections, questions): `L` in the 2.5.1 versions, `99zda` in the older ones.
    """

    name: str
    event_type: EventType
    hl7_version: str
    message_type_new: str
    message_type_cancel: str
    charset: str
    local_coding_system: str

    @property
    def hl7_24(self) -> bool:
        """HL7 2.4 datatypes: no PL-10 or XON-10, so organisation AGBs go elsewhere."""
        return self.hl7_version == "2.4"

    @property
    def lab_order(self) -> bool:
        """OML_O21: TQ1 per order and SPM per specimen, besides the ORM layout."""
        return self.message_type_new.startswith("OML")

    def message_type(self, action: str) -> str:
        return self.message_type_cancel if action == "cancel" else self.message_type_new


REF_V1: Final = WireProfile(
    "ref-v1", "referral", "2.4", "REF^I12^REF_I12", "REF^I14^REF_I12", LATIN1, "99zda"
)
REF_V2: Final = WireProfile(
    "ref-v2", "referral", "2.5.1", "REF^I12^REF_I12", "REF^I14^REF_I12", UTF8, "L"
)
ORM_LFDV1: Final = WireProfile(
    "orm-lfdv1", "diagnostic_request", "2.3.1", "ORM^O01", "ORM^O01", LATIN1, "99zda"
)
ORM_LFDV2: Final = WireProfile(
    "orm-lfdv2", "diagnostic_request", "2.4", "ORM^O01^ORM_O01", "ORM^O01^ORM_O01", LATIN1,
    "99zda",
)  # fmt: skip
ORM_V3: Final = WireProfile(
    "orm-v3", "diagnostic_request", "2.5.1", "ORM^O01^ORM_O01", "ORM^O01^ORM_O01", UTF8, "L"
)
OML_V3: Final = WireProfile(
    "oml-v3", "diagnostic_request", "2.5.1", "OML^O21^OML_O21", "OML^O21^OML_O21", UTF8, "L"
)

PROFILES: Final = (REF_V1, REF_V2, ORM_LFDV1, ORM_LFDV2, ORM_V3, OML_V3)
