"""Request bodies come without a content coding: a ``Content-Encoding`` is a 415.

No route decodes a body. A gzip body was read as it came: an event was refused as no JSON
(with intake's hint that it looked compressed) and kept as rejected input, a search's body was
a 422; and a ``br`` or ``deflate`` body whose bytes happened to parse was taken as written, the
coding ignored. A coding the server does not apply is its 415 (RFC 9110 §15.5.16), with
``Accept-Encoding: identity`` saying the only one it takes (RFC 9110 §12.5.3), before the body
is parsed or anything of it is kept: by ``media.require_json_body``, the app-wide rule, and by
``json_body.JsonBodyRequest``, where FastAPI parses a route's JSON body before the app's rules
run.

``identity`` (no coding, RFC 9110 §8.4.1) is taken; an empty header names none either.
"""

from __future__ import annotations

from typing import Final

from fastapi import HTTPException
from starlette.datastructures import Headers

CONTENT_ENCODING: Final = "Content-Encoding"
ACCEPT_ENCODING: Final = "Accept-Encoding"
IDENTITY: Final = "identity"
ENCODED: Final = (
    f"{CONTENT_ENCODING}: this API takes bodies without {CONTENT_ENCODING}; send the JSON as "
    f"is (no {CONTENT_ENCODING} header, or '{IDENTITY}')"
)
"""The refusal: the header and the rule, never the coding sent."""


def encoded(headers: Headers) -> bool:
    """Whether ``headers`` declare a content coding other than ``identity`` (every value of
    every ``Content-Encoding`` header, in any case)."""
    for value in headers.getlist(CONTENT_ENCODING):
        for coding in value.split(","):
            if coding.strip().lower() not in ("", IDENTITY):
                return True
    return False


def refuse_encoded(headers: Headers) -> None:
    """The 415 of a body with a content coding (``encoded``); nothing for one without."""
    if encoded(headers):
        raise HTTPException(status_code=415, detail=ENCODED, headers={ACCEPT_ENCODING: IDENTITY})
