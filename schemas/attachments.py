"""Attachments: base64 documents whose bytes must be what their content_type claims.

Checking the magic bytes matters because receivers file attachments by type: a "PDF" that is
really an executable or an HTML page is a safety problem on the hospital side, not just a
rendering glitch.
"""

from __future__ import annotations

import binascii
import re
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator
from pydantic_core import core_schema as cs

from schemas import native
from schemas.base import IntakeModel
from schemas.errors import rule_error
from schemas.fields import MAX_TEXT, Base64Data, NonBlankStr, OptionalText
from schemas.native import NativeJson

MIB: Final = 1024 * 1024
MAX_ATTACHMENT_BYTES: Final = 20 * MIB
MAX_ATTACHMENTS_TOTAL_BYTES: Final = 50 * MIB

_TYPES = Literal["application/pdf", "image/png", "image/jpeg", "text/plain"]
CONTENT_TYPES: Final[tuple[str, ...]] = get_args(_TYPES)


def lower_case_type(value: Any) -> Any:
    """A media type in lower case: MIME types are case-insensitive (RFC 2045 section 5.1), so
    ``application/PDF`` is ``application/pdf``, and the mappers and the wire see one spelling.
    ASCII only: ``str.lower`` makes a few other letters ASCII ones (the Kelvin sign a ``k``).
    Parameters (``text/plain; charset=utf-8``) are not taken: each of the four is exactly a
    type and a subtype."""
    if isinstance(value, str) and value.isascii():
        return value.lower()
    return value


def _any_case(text: str) -> str:
    """``text`` as an ECMA-262 pattern matching it in any case (JSON Schema has no flag)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


ContentType = Annotated[
    _TYPES,
    BeforeValidator(lower_case_type),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^({'|'.join(_any_case(t) for t in CONTENT_TYPES)})$",
            "description": (
                "One of application/pdf, image/png, image/jpeg, text/plain, in any case "
                "(MIME types are case-insensitive, RFC 2045): sent on in lower case. Without "
                "parameters: text/plain; charset=utf-8 is refused (text/plain is UTF-8)."
            ),
            "examples": list(CONTENT_TYPES),
        }
    ),
]

_MAGIC: Final[dict[str, bytes]] = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}
_BAD_FILENAME: Final = re.compile(r"[/\\\x00-\x1f\x7f]")


def decoded_size(data: str) -> int:
    """Decoded length of padded base64 text, computed without decoding it."""
    padding = 2 if data.endswith("==") else 1 if data.endswith("=") else 0
    return len(data) // 4 * 3 - padding


def _compact_base64(value: Any) -> Any:
    # MIME-style senders wrap base64 at 76 columns; the wrapping carries no data.
    if isinstance(value, str):
        return "".join(value.split())
    return value


def _content_matches(content_type: str, content: bytes) -> bool:
    if content_type == "text/plain":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return content.startswith(_MAGIC[content_type])


class CheckedBase64(str):
    """Attachment data that passed the validator: strict base64 (``A-Z a-z 0-9 + / =``) only.

    Mappers put such text into a message as it is, without escaping or scanning megabytes
    again (``mappings.slots``); any other text (a model built without validation) they escape.
    """

    __slots__ = ()


def _plain_filename(filename: str) -> str:
    # The name travels to the receiver's file store; a path in it could escape a folder.
    if _BAD_FILENAME.search(filename) or filename in {".", ".."}:
        raise rule_error("filename_format")
    return filename


def _valid_base64_within_limit(data: str) -> str:
    # The size comes from the text length, so an oversized body is refused before decoding.
    if len(data) % 4 == 0 and decoded_size(data) > MAX_ATTACHMENT_BYTES:
        raise rule_error("attachment_too_large")
    _decode(data)
    return CheckedBase64(data)


def _compact_valid_base64(data: str) -> str:
    return _valid_base64_within_limit(_compact_base64(data))


# For JSON input, in pydantic-core: any character but the ones _BAD_FILENAME finds, and not
# "." or "..". One or two characters not starting with "." (or "." and a non-dot), or three
# and more.
_PLAIN: Final = r"[^/\\\x{0}-\x{1F}\x{7F}]"
_PLAIN_NOT_DOT: Final = r"[^./\\\x{0}-\x{1F}\x{7F}]"
_PLAIN_FILENAME: Final = (
    rf"^(?:{_PLAIN_NOT_DOT}|{_PLAIN_NOT_DOT}{_PLAIN}|\.{_PLAIN_NOT_DOT}|{_PLAIN}{{3,}})$"
)

Filename = Annotated[
    NonBlankStr,
    AfterValidator(_plain_filename),
    NativeJson(
        cs.chain_schema(
            [
                native.non_blank_at_most(MAX_TEXT),
                native.matching(_PLAIN_FILENAME, "filename_format"),
            ]
        )
    ),
]

# Wrapped base64 compacted before the checks. For JSON input it is compacted after the blank
# check, which decides the same: the text is blank exactly when it is all whitespace.
AttachmentData = Annotated[
    Base64Data,
    BeforeValidator(_compact_base64),
    AfterValidator(_valid_base64_within_limit),
    NativeJson(
        native.required(
            native.not_blank(),
            cs.no_info_after_validator_function(
                _compact_valid_base64, cs.str_schema(strip_whitespace=False)
            ),
        )
    ),
]


class Attachment(IntakeModel):
    filename: Filename
    content_type: ContentType
    # Not in repr: a 20 MiB base64 body would swamp any traceback or debug line.
    data: AttachmentData = Field(repr=False)
    description: OptionalText = None

    @property
    def size(self) -> int:
        """Decoded size in bytes."""
        return decoded_size(self.data)

    @model_validator(mode="after")
    def _content_is_declared_type(self) -> Attachment:
        if self.content_type == "text/plain":
            content = _decode(self.data)
        else:
            # The magic bytes sit in the first 12 base64 characters (9 bytes); no need to
            # decode megabytes again to read them.
            content = _decode(self.data[:12])
        if not _content_matches(self.content_type, content):
            raise rule_error("content_mismatch", field="data")
        return self


def _decode(data: str) -> bytes:
    # What `base64.b64decode(data, validate=True)` does, without its two Python steps around
    # it nor its ASCII copy of the text (binascii reads an ASCII str as it is): non-ASCII text
    # raises ValueError either way.
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError):
        raise rule_error("base64") from None
