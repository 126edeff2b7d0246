"""A period's field in the console that names the forms it takes names every kind the
period's reading takes (``search.parse_moment``: a date, a date-time, a time back from now),
for its ``until`` as for its ``since``: *Received until (date or date-time)* left out ``2h``,
which the field takes, while *Received from* beside it said it."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.console.i18n import CATALOGUES
from integrator.search import parse_period
from tests.integrator.support import settings_for

BACK_FROM_NOW = {"en": "back from now", "nl": "een periode tot nu"}


@pytest.mark.parametrize("language", sorted(CATALOGUES))
def test_every_period_label_that_lists_forms_lists_back_from_now(language: str) -> None:
    labels = {
        key: text
        for key, text in CATALOGUES[language].items()
        if key.endswith((".since", ".until")) and "(" in text
    }
    assert len(labels) >= 4, labels  # the rejected input's and the audit's, both bounds
    missing = [key for key, text in labels.items() if BACK_FROM_NOW[language] not in text]
    assert missing == [], missing


def test_an_until_back_from_now_is_read(tmp_path: Path) -> None:
    """What the labels promise: ``until`` takes ``2h`` as ``since`` takes ``24h``."""
    settings = settings_for(tmp_path, search_key="a-console-test-search-key")
    start, end = parse_period("24h", "2h", settings)
    assert start is not None and end is not None and start < end
