"""Which numbers in a reason are taken for a BSN (``search.writes_bsn``, behind every service's
``reason.holds_bsn`` refusal): a BSN however it is written, and none of the identifiers and
phone numbers support writes down beside it. A review found a mobile number with its country
code (``+31-6 12345671``) and a ZD number written with a dash refused as a BSN."""

from __future__ import annotations

import pytest

from integrator.reasons import holds_bsn
from integrator.search import writes_bsn
from schemas.identifiers import is_valid_bsn

MOBILE = "612345671"  # what follows +31 of a Dutch mobile number; passes the eleven-test
assert is_valid_bsn(MOBILE)


@pytest.mark.parametrize(
    "reason",
    [
        f"huisarts belde, terugbellen op +31-6 {MOBILE[1:]}",
        f"huisarts: +31 (0)6 {MOBILE[1:]}",
        f"huisarts: +31 6 {MOBILE[1:]}",
        f"huisarts: +31{MOBILE}",
        f"huisarts: 0031 6 {MOBILE[1:]}",
        f"huisarts: 06-{MOBILE[1:]}",
        "ZD-999990019 niet ontvangen",
        "ZD: 999990019 niet ontvangen",
        "ZD 999 990 019 niet ontvangen",
        "MSH-10 1A24BFEC0463CBB55DC",
        "AGB 01234567, 2026-11-20T09:15",
    ],
)
def test_identifiers_and_phone_numbers_are_taken(reason: str) -> None:
    assert not writes_bsn(reason) and not holds_bsn(reason)


@pytest.mark.parametrize(
    "reason",
    [
        "bsn 999990019",
        "BSN 999 990 019 niet ontvangen",
        "patient 999.990.019",
        "ticket 12 999990019",
        f"bsn {MOBILE}",  # the same nine digits, written as a number of their own
        "999990019, ZD100000001",
    ],
)
def test_a_bsn_however_written_is_refused(reason: str) -> None:
    assert writes_bsn(reason) and holds_bsn(reason)


@pytest.mark.parametrize(
    "reason",
    [
        "bsn 999-990-019",
        "patient 999,990,019 belde",
        "bsn 9999-90-019",
        "(999-990-019)",
    ],
)
def test_a_bsn_grouped_with_dashes_or_commas_is_refused(reason: str) -> None:
    """Only spaces and dots were taken as a BSN's separators, so ``999-990-019`` went into the
    audit trail as it was typed (noticed in the review of the thirty-second session)."""
    assert writes_bsn(reason) and holds_bsn(reason)


@pytest.mark.parametrize(
    "reason",
    [
        f"huisarts: 06-{MOBILE[1:]}",
        f"huisarts: 06-{MOBILE[1:4]}-{MOBILE[4:7]}-{MOBILE[7:]}",  # 06-123-456-71
        "praktijk 020-1234567, 2026-11-20",
        "order 1999-990-019-4",  # a longer grouped number: one of its parts is not a BSN
        "bedrag 1,999,990,019",
        "999-990-018",  # nine digits grouped alike, failing the eleven-test
    ],
)
def test_dashed_numbers_that_are_no_bsn_are_taken(reason: str) -> None:
    assert not writes_bsn(reason) and not holds_bsn(reason)
