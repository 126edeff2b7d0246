"""The field tables in mappings/*.md are what receivers implement from: keep them in step
with the codes the mappers actually send."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest

from mappings import REGISTRY, lengths, map_event, observations, order
from mappings.profile import OML_V3, ORM_LFDV2, ORM_V3, REF_V1, REF_V2
from schemas import DiagnosticRequest
from tests.mappings.helpers import context, grammar, segment_names

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


def _segment_line(text: str, after: str) -> str:
    """The first backticked segment list after the heading ``after`` (it may wrap)."""
    rest = text[text.index(after) :]
    start = rest.index("`MSH ") + 1
    return " ".join(rest[start : rest.index("`", start)].split())


def _pattern(line: str) -> str:
    """A segment list as the docs write it (`[…]` optional, `{…}` once or more, a lower-case
    word a label) as a regular expression over `segment_names` joined by spaces."""
    parts: list[str] = []
    for token in re.findall(r"[\[\]{}]|[A-Z][A-Z0-9]{2}|[a-z]+", line):
        if token in "[{":
            parts.append("(?:")
        elif token == "]":
            parts.append(")?")
        elif token == "}":
            parts.append(")+")
        elif token.isupper():
            parts.append(f"{token} ")
    return "".join(parts)


_ORDER_PAGES: Final = {
    "orm-v3": ("orm-v3.md", "## Segments"),
    "orm-lfdv2": ("orm-lfdv2.md", "## Segments"),
    "oml-v3": ("oml-v3.md", "## Segments"),
}


@pytest.mark.parametrize("version", sorted(_ORDER_PAGES))
def test_the_order_segment_lists_are_those_the_mapper_sends(
    version: str,
    diagnostic_request: DiagnosticRequest,
    full_diagnostic_request: DiagnosticRequest,
) -> None:
    """Each page's segment list, and for `orm-v3` product.md §4.3's too, fits what the mapper
    sends for a request with every optional part and for one with none (no OBX at all): the
    two said once that every test had OBX segments of its own, which none has."""
    bare = diagnostic_request.model_copy(
        update={"clinical_info": None, "questions": (), "collection": None}
    )
    page, heading = _ORDER_PAGES[version]
    lines = [_segment_line((DOCS / page).read_text(encoding="utf-8"), heading)]
    if version == "orm-v3":
        product = DOCS.parent / "docs" / "product.md"
        lines.append(_segment_line(product.read_text(encoding="utf-8"), "### 4.3 `orm-v3`"))
    for event in (bare, diagnostic_request, full_diagnostic_request):
        for action in ("new", "cancel"):
            text = map_event(version, event.model_copy(update={"action": action}), context()).text
            for line in lines:
                assert grammar(text, _pattern(line)), (line, segment_names(text))
