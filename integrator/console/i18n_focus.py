"""The words that say where a search's results begin (the search pages' results heading,
which takes the keyboard's focus after a search: ``static/console.js``, ``data-found``);
merged into ``integrator.console.i18n``'s catalogue."""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    "found.title": "Search results",
}

NL: Final[dict[str, str]] = {
    "found.title": "Zoekresultaten",
}
