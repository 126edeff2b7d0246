"""A message's warnings, said to the person in their language.

The engine keeps a message's warnings as English text (``NewMessage.warnings``), and the CLI,
the API and the logs show them as they are. Each sentence it writes there is a
``shapes.Shape``, made beside the code that writes it (the lengths, the charset, the
country codes, the sunset rules, a refused mapping, the ZD number's history); this module reads
a stored warning's values back by its shape and words it by the shape's code, the sentence
``warning.<code>`` of ``integrator.console.i18n_warnings`` in the person's language
(one ``integrator.console.shaped.Family``, as the other stored texts are). Field
paths, versions, dates and event ids stay as they are; the kind of an event is the pages' word
for it (verwijzing, aanvraag); the reason a message was held is a warning of its own, worded in
turn. A warning no shape reads (one stored before its English changed, a new one written
without a shape) is shown as stored, in English, never dropped.

Pages show warnings through ``t.warning(text)`` (``integrator.console.i18n.Translator``), and a
resend's note that carries a held remap's warnings words them the same way
(``integrator.console.refusals``).
"""

from __future__ import annotations

from typing import Final

from integrator import deprecation, intake, zd_sequence
from integrator.console.shaped import Family
from mappings import charset, countries, errors, lengths
from shapes import Shape

SHAPES: Final[tuple[Shape, ...]] = (
    lengths.SHORTENED,
    lengths.KEPT_WHOLE,
    charset.TRANSLITERATED_ONE,
    charset.TRANSLITERATED,
    charset.REPLACED_ONE,
    charset.REPLACED,
    charset.SURROGATES_ONE,
    charset.SURROGATES,
    countries.UNKNOWN,
    deprecation.HELD_RETIRED,
    deprecation.HELD_NO_SUCCESSOR,
    deprecation.UPGRADED,
    intake.HELD,
    intake.NOT_RELEASED,
    intake.CREATED_LATER_SHAPE,
    errors.UNKNOWN_VERSION,
    errors.RETIRED,
    errors.RETIRED_NO_SUCCESSOR,
    errors.NO_MAPPER,
    errors.EVENT_TYPE_MISMATCH,
    errors.UNKNOWN_CHARSET,
    zd_sequence.CANCEL_WITHOUT_NEW_WARNING,
    zd_sequence.CANCEL_WITHOUT_NEW_OTHER_WARNING,
    zd_sequence.CANCEL_REPEATED_WARNING,
    zd_sequence.NEW_REPEATED_WARNING,
    zd_sequence.NEW_AFTER_CANCEL_WARNING,
    zd_sequence.CANCEL_WITHOUT_NEW_OTHER_OUTSIDE,
    zd_sequence.CANCEL_REPEATED_OUTSIDE,
    zd_sequence.NEW_REPEATED_OUTSIDE,
    zd_sequence.NEW_AFTER_CANCEL_OUTSIDE,
)
"""Every sentence the engine writes among a message's warnings."""

EVENT_VALUES: Final = frozenset({"kind", "other"})
"""Values that name a kind of event: said with the pages' words (``event.<type>``)."""
WARNING_VALUES: Final = frozenset({"reason"})
"""Values that are a warning themselves (why a message was held): worded in turn."""

_EVENT_TYPES: Final = {kind: event_type for event_type, kind in zd_sequence.KINDS.items()}


def _event(lang: str, kind: str) -> str:
    from integrator.console.i18n import EN, translate

    key = f"event.{_EVENT_TYPES.get(kind, kind)}"
    return translate(lang, key) if key in EN else kind


WARNINGS: Final = Family(
    SHAPES,
    nested=WARNING_VALUES,
    words=dict.fromkeys(EVENT_VALUES, _event),
    prefix="warning.",
)
"""A message's warnings as one family of shaped texts (``integrator.console.shaped``)."""


def word(lang: str, warning: str) -> str:
    """``warning`` (as a message keeps it) in ``lang``; as stored when no shape reads it."""
    return WARNINGS.word(lang, warning)


def worded_in(lang: str, warning: str) -> str | None:
    """``warning`` in ``lang`` by the shape that wrote it; None when no shape reads it."""
    return WARNINGS.worded_in(lang, warning)


def read(warning: str) -> tuple[Shape, dict[str, str]] | None:
    """The shape that wrote ``warning``, and its values: the first that reads the whole text
    and the warnings within it (a held message's reason); None when none does."""
    return WARNINGS.read(warning)
