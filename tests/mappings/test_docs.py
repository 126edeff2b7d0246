"""The field tables in mappings/*.md are what receivers implement from: keep them in step
with the codes the mappers actually send."""

from __future__ import annotations

from pathlib import Path

import pytest

from mappings import REGISTRY, lengths, observations, order
from mappings.profile import OML_V3, ORM_LFDV2, ORM_V3, REF_V1, REF_V2

DOCS = Path(observations.__file__).resolve().parent


@pytest.mark.parametrize(
    "code",
    [
        *(f"`{code}^{title}^L`" for _, code, title in observations.LETTER_SECTIONS),
        "`ATTACHMENT^Bijlage^L`",
        "`CLUSTER^Cluster^L`",
        f"`{REF_V2.message_type_new}` / `{REF_V2.message_type_cancel}`",
        "`Y^Ja^HL70136` / `N^Nee^HL70136`",
        "`NL` → `NLD`",
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
        "`ZD100000002-01`",
    ],
)
def test_orm_v3_page_names_the_codes(code: str) -> None:
    assert code in (DOCS / "orm-v3.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "code",
    [
        "`CLUSTER^Cluster^99zda`",
        "`<code>^<name>^99zda`",
        f"`{REF_V1.message_type_new}` / `{REF_V1.message_type_cancel}`",
        "`<agb>^VEKTIS~<big>^BIG~<organisation agb>^VEKTIS^organisation`",
        "`^^^^^^^^<name>`",
        "Deprecated** since 2026-01-01, sunset 2027-07-01, successor `ref-v2`",
    ],
)
def test_ref_v1_page_names_the_codes(code: str) -> None:
    assert code in (DOCS / "ref-v1.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "code",
    [
        "`{}^{}^99zda`".format(*order.CLINICAL_INFO),
        "`{}^{}^99zda`".format(*order.CONTAINER),
        "`ATTACHMENTS^Bijlagen^99zda`",
        "`ZD100000002_01BLD`",
        "`ZD100000002_01BloedEDT`",
        "`<name>^^<agb>^^^VEKTIS^XX`",
        f"`{ORM_LFDV2.message_type_new}`",
        "Deprecated** since 2025-09-01, sunset 2027-03-31, successor `orm-v3`",
    ],
)
def test_orm_lfdv2_page_names_the_codes(code: str) -> None:
    assert code in (DOCS / "orm-lfdv2.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "code",
    [*(f"`{text}`" for text in order.TQ1_PRIORITY.values()), f"`{OML_V3.message_type_new}`"],
)
def test_oml_v3_page_names_the_codes(code: str) -> None:
    assert code in (DOCS / "oml-v3.md").read_text(encoding="utf-8")


def test_lengths_page_states_the_rule() -> None:
    page = (DOCS / "lengths.md").read_text(encoding="utf-8")
    assert "`PRD-4.9 shortened to 36 characters`" in page
    assert "`PID-3.1 kept whole: longer than 15 characters`" in page
    assert "`mappings/standard_lengths.py`" in page
    for datatype in lengths.TEXT_PARTS:
        assert f"| {datatype} |" in page, datatype
    for field in lengths.ADVISORY:
        assert field in page


def test_every_version_with_a_mapper_has_a_page() -> None:
    for name, version in REGISTRY.items():
        if version.mapper is not None:
            assert (DOCS / f"{name}.md").exists(), name
