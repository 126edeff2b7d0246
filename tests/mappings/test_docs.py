"""The field tables in mappings/*.md are what receivers implement from: keep them in step
with the codes the mappers actually send."""

from __future__ import annotations

from pathlib import Path

import pytest

from mappings import observations, order
from mappings.profile import ORM_V3, REF_V2

DOCS = Path(observations.__file__).resolve().parent


@pytest.mark.parametrize(
    "code",
    [
        *(f"`{code}^{title}^L`" for _, code, title in observations.LETTER_SECTIONS),
        "`ATTACHMENT^Bijlage^L`",
        "`CLUSTER^Cluster^L`",
        f"`{REF_V2.message_type_new}` / `{REF_V2.message_type_cancel}`",
        "`Y^Ja^HL70136` / `N^Nee^HL70136`",
    ],
)
def test_ref_v2_page_names_the_codes(code: str) -> None:
    assert code in (DOCS / "ref-v2.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "code",
    [
        "TX `{}^{}^L`".format(*order.CLINICAL_INFO),
        "TX `{}^{}^L`".format(*order.COLLECTION_INSTRUCTIONS),
        "`{}^{}^L`".format(*order.CONTAINER),
        "`ATTACHMENTS^Bijlagen^L`",
        f"`{ORM_V3.message_type_new}`",
    ],
)
def test_orm_v3_page_names_the_codes(code: str) -> None:
    assert code in (DOCS / "orm-v3.md").read_text(encoding="utf-8")
