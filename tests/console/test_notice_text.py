"""A destination's version notices, said in the person's language
(``integrator.console.notice_text``).

The catalogue writes them in English (``integrator.catalog.version_warnings``), as the CLI, the
API and the engine's log show them; the console reads each back by the ``Shape`` it was written
with. Here the real version rules write every notice they can, on dates where each applies;
each must be worded in Dutch and in English exactly as written; a coded note is worded as
before, and a text no shape reads is shown as stored.
"""

from __future__ import annotations

from datetime import date

import pytest

from integrator.catalog import Catalog, shared_providers, version_warnings
from integrator.console.i18n import Translator
from integrator.console.notice_text import NOTICES, word
from tests.console.shaped_support import assert_every_shape_has_its_sentences
from tests.integrator.support import destination

BEFORE_REF_V1_SUNSET = date(2026, 12, 1)  # ref-v1 deprecated, orm-lfdv1 retired
DEPRECATED_NL = (
    "bestemming 'noord': messages.referral gebruikt verouderde berichtversie 'ref-v1'; buiten "
    "gebruik vanaf 2027-07-01, ga over op 'ref-v2'"
)


def _written() -> list[str]:
    found: list[str] = []
    for auto_upgrade in (False, True):
        config = destination(
            "noord",
            2575,
            providers=["p"],
            messages={"referral": "ref-v1", "diagnostic_request": "orm-lfdv1"},
            auto_upgrade=auto_upgrade,
        )
        found += version_warnings(
            config, today=BEFORE_REF_V1_SUNSET, source="noord.yaml", in_service=True
        )
    return found


def test_every_version_notice_is_worded_in_dutch() -> None:
    written = _written()
    assert len(written) == 4  # deprecated twice, retired held, retired mapped with successor
    for notice in written:
        dutch = word("nl", notice)
        assert dutch != notice, notice
        assert word("en", notice) == notice
    read = {found[0].code for notice in written if (found := NOTICES.read(notice))}
    assert read == {"notice.deprecated", "notice.retired_held", "notice.retired_upgraded"}


@pytest.mark.parametrize(
    ("stored", "dutch"),
    [
        (
            "destination 'noord': messages.referral uses deprecated message version 'ref-v1'; "
            "sunset 2027-07-01, move to 'ref-v2'",
            DEPRECATED_NL,
        ),
        (
            "destination 'noord': messages.diagnostic_request uses retired message version "
            "'orm-lfdv1' (sunset 2026-06-30); new messages are held until it moves to 'orm-v3'",
            "bestemming 'noord': messages.diagnostic_request gebruikt berichtversie 'orm-lfdv1', "
            "die buiten gebruik is sinds 2026-06-30; nieuwe berichten worden vastgehouden tot de "
            "bestemming overgaat op 'orm-v3'",
        ),
        (
            "destination 'noord': messages.diagnostic_request uses retired message version "
            "'orm-lfdv1' (sunset 2026-06-30); new messages are mapped with the successor until "
            "it moves to 'orm-v3'",
            "bestemming 'noord': messages.diagnostic_request gebruikt berichtversie 'orm-lfdv1', "
            "die buiten gebruik is sinds 2026-06-30; nieuwe berichten worden omgezet met de "
            "opvolger tot de bestemming overgaat op 'orm-v3'",
        ),
    ],
)
def test_each_notice_is_worded_in_dutch_with_its_values(stored: str, dutch: str) -> None:
    assert stored in _written()  # exactly what the catalogue writes
    assert Translator("nl").notice(stored) == dutch  # what the page calls
    assert Translator("en").notice(stored) == stored


@pytest.mark.parametrize(
    "stored",
    [
        "destination 'noord': messages.referral uses deprecated message version 'ref-v1'",
        "destination 'noord': messages.referral uses retired message version 'x' (sunset "
        "2026-06-30); new messages are held until it moves to None",
        "",
    ],
)
def test_a_notice_no_shape_reads_is_shown_as_stored(stored: str) -> None:
    assert word("nl", stored) == stored


def test_a_coded_note_is_still_worded_by_its_code() -> None:
    config = destination("noord", 2575, providers=["p"])
    other = destination("kopie", 2576, providers=["p"])
    [note] = shared_providers(config, Catalog({"noord": config, "kopie": other}))
    dutch = Translator("nl").notice(note)
    assert dutch != str(note) and "kopie" in dutch


def test_every_notice_shape_has_a_sentence_in_both_languages() -> None:
    assert_every_shape_has_its_sentences(NOTICES)
