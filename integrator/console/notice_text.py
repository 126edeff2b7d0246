"""A destination's version notices, said to the person in their language.

The catalogue warns about a destination's message versions in English
(``integrator.catalog.version_warnings``), as the CLI, the API and the engine's log show it;
each sentence is a ``shapes.Shape`` there, and the destination's page words it by its shape
(``integrator.console.shaped``). A notice that is a coded ``Note`` (a provider another
destination serves too) is worded as a refusal is (``integrator.console.refusals``); a notice
neither reads is shown as stored.
"""

from __future__ import annotations

from typing import Final

from integrator import catalog, operators
from integrator.console.shaped import Family
from integrator.refusal import code_of

NOTICES: Final = Family(
    (
        catalog.RETIRED_HELD,
        catalog.RETIRED_UPGRADED,
        catalog.DEPRECATED,
        operators.UNROUTED_WAITING,
        operators.UNROUTED_STILL_WAITING,
        operators.NO_PROVIDERS,
    )
)
"""Every sentence the catalogue writes as a destination's version notice, and the warnings a
change of a destination gives that are sentences (``DestinationAdmin``'s ``Change.warnings``)."""


def word(lang: str, notice: object) -> str:
    """``notice`` (a version notice, or a coded note) in ``lang``; as stored when neither a
    shape nor a code says it."""
    from integrator.console.refusals import Said, say

    if isinstance(notice, Said) or code_of(notice)[0] is not None:
        return say(lang, notice)
    return NOTICES.word(lang, str(notice))
