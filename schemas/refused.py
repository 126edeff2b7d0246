"""The rules of a submission refused before it could be read as an event.

The HTTP API refuses an intake body that is too large (413), not sent as JSON or declared in a
charset other than UTF-8 (415), or sent with a query parameter (422)
before intake sees it (``integrator.http.limits``,
``integrator.http.media``); intake itself refuses an AMQP delivery or a file to ``integrator
submit`` above ``EVENT_BODY_LIMIT`` before it parses it (``integrator.intake``). Bad input never
disappears (docs/product.md §2), so such a refusal is kept as rejected input too, with one of
these rules, as ``FieldError``s like every other refusal: the path is ``$`` (the whole body),
the rule code is part of the contract (``body_too_large``, ``media_type``, ``charset``,
``request``), and the
sentence says the limit and the size, the media type or the charset, never anything from the
body. Each sentence is a ``shapes.Shape``, so the console words it in the person's language.
"""

from __future__ import annotations

import re
from typing import Final

from schemas.attachments import MAX_ATTACHMENTS_TOTAL_BYTES, MIB
from schemas.errors import FieldError
from shapes import NUMBER, Shape

EVENT_JSON_ALLOWANCE: Final = 4 * MIB
EVENT_BODY_LIMIT: Final = 4 * -(-MAX_ATTACHMENTS_TOTAL_BYTES // 3) + EVENT_JSON_ALLOWANCE
"""The most bytes one event's body may be, through every door: what the contract can need.
Attachments may hold 50 MiB decoded (``schemas.attachments``), 4/3 of it in base64 (66.7 MiB),
and the rest of an event, each part with its maximum (docs/product.md §2), stays far below the
4 MiB added for it: 70.7 MiB (74,099,372 bytes). Defined here, in the pure package, so the HTTP
API (413 before it reads), the AMQP intake and ``integrator submit`` (refused before anything
parses it) hold one number: a larger body cost the engine several times its size in memory
once parsed, for an event that could only be refused."""

REJECTED_ID_HEADER: Final = "x-integrator-rejected-id"
"""On every refusal of ``POST /api/v1/events`` that kept the submission (413, 415, 422): the id
it is kept under as rejected input, sent only when it was kept (its caller may submit events),
so a client knows which it was and support finds it by that id."""

BODY_TOO_LARGE: Final = "body_too_large"
MEDIA_TYPE: Final = "media_type"

_NAME: Final = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}"
MEDIA: Final = rf"{_NAME}/{_NAME}"
"""A media type as it is shown: ``type/subtype``, lower case, no parameters."""

DECLARED_TOO_LARGE: Final = Shape(
    "rule.body_declared_too_large",
    "is declared as {size} bytes, more than the {limit} bytes this route accepts; "
    "the body was not read or kept",
    size=NUMBER,
    limit=NUMBER,
)
CUT_OFF: Final = Shape(
    "rule.body_cut_off",
    "passed the {limit} bytes this route accepts and was cut off after {size} bytes; "
    "the body was not kept",
    size=NUMBER,
    limit=NUMBER,
)
OVER_LIMIT: Final = Shape(
    "rule.body_over_limit",
    "is {size} bytes, more than the {limit} bytes an event may be; the body was not read as "
    "an event or kept",
    size=NUMBER,
    limit=NUMBER,
)
SENT_AS: Final = Shape(
    "rule.media_type_sent_as",
    "was sent as {media_type}, not as JSON: an event needs 'Content-Type: application/json'",
    media_type=MEDIA,
)
SENT_UNTYPED: Final = Shape(
    "rule.media_type_unreadable",
    "was sent without a readable content type, not as JSON: an event needs "
    "'Content-Type: application/json'",
)
CHARSET: Final = "charset"
_CHARSET_NAME: Final = r"[a-z][a-z0-9._:+-]{0,39}"
SENT_IN: Final = Shape(
    "rule.charset_sent_in",
    "was declared in charset {charset}: JSON is UTF-8 (RFC 8259); send it as UTF-8, with no "
    "charset or charset=utf-8",
    charset=_CHARSET_NAME,
)
SENT_IN_UNNAMED: Final = Shape(
    "rule.charset_unreadable",
    "was declared in a charset other than UTF-8: JSON is UTF-8 (RFC 8259); send it as UTF-8, "
    "with no charset or charset=utf-8",
)
REQUEST: Final = "request"
ADDRESSED_WITH_QUERY: Final = Shape(
    "rule.request_query",
    "was sent with query parameters, which an event submission takes none of (named in the "
    "answer): send the event alone, in the body",
)
SHAPES: Final = (
    DECLARED_TOO_LARGE,
    CUT_OFF,
    OVER_LIMIT,
    SENT_AS,
    SENT_UNTYPED,
    SENT_IN,
    SENT_IN_UNNAMED,
    ADDRESSED_WITH_QUERY,
)
"""Every sentence here, for the console's catalogue."""


def too_large(*, limit: int, size: int, declared: bool) -> FieldError:
    """A body above ``limit``: ``size`` as its ``Content-Length`` declared it (``declared``)
    or as far as it arrived before it was cut off."""
    shape = DECLARED_TOO_LARGE if declared else CUT_OFF
    return FieldError("$", BODY_TOO_LARGE, shape(size=size, limit=limit))


def over_limit(size: int, limit: int = EVENT_BODY_LIMIT) -> FieldError:
    """A body whose whole ``size`` is known (an AMQP delivery, a file) and above ``limit``;
    the same rule as the API's 413, in words that name no route."""
    return FieldError("$", BODY_TOO_LARGE, OVER_LIMIT(size=size, limit=limit))


def with_query() -> FieldError:
    """A submission refused for what came with its body, not the body: query parameters, of
    which the intake route takes none (given twice or not). Their names are in the answer
    only, never kept: a parameter's name is the sender's text."""
    return FieldError("$", REQUEST, ADDRESSED_WITH_QUERY())


def not_json(content_type: str | None) -> FieldError:
    """A body not sent as JSON; its media type is named only when it reads as one (the header
    is the sender's text: anything else in it is not repeated)."""
    media = (content_type or "").partition(";")[0].strip().lower()
    if re.fullmatch(MEDIA, media):
        return FieldError("$", MEDIA_TYPE, SENT_AS(media_type=media))
    return FieldError("$", MEDIA_TYPE, SENT_UNTYPED())


def not_utf8(content_type: str | None) -> FieldError:
    """A body declared in a charset other than UTF-8; the charset is named only when it reads
    as a charset's name (the header is the sender's text: anything else in it is not
    repeated)."""
    _, _, parameters = (content_type or "").partition(";")
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        name = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and re.fullmatch(_CHARSET_NAME, name):
            return FieldError("$", CHARSET, SENT_IN(charset=name))
    return FieldError("$", CHARSET, SENT_IN_UNNAMED())
