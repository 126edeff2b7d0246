"""HL7 v2 escaping of text values, for the fixed encoding characters `|^~\\&`.

Escaping is what makes "no input can add a field, component, repetition or segment" true: after
`escape` a value holds none of `| ^ ~ & \\` raw, no CR or LF, and no other C0 control character
(a raw 0x1C or 0x0B would end or start an MLLP frame on the receiver's side).

Line breaks, by data type:

* FT and TX (`escape_ft`): CRLF, CR and LF each become one `\\.br\\`, the formatting command a
  receiver turns back into a line break. The kind of line break is not kept.
* every other type (`escape`): CR becomes `\\X0D\\` and LF `\\X0A\\`, the hexadecimal escape
  (HL7 v2 §2.7.5). `\\.br\\` is only defined for FT, TX and CF, so in an ST or a name it would
  be shown literally; the hex escape gives back exactly the characters that were sent.

Other control characters except TAB (C0, DEL and C1, U+0080 to U+009F) become `\\Xhh\\` too.
A value that is exactly `""` would mean "delete this field" (HL7 null) to a receiver, so it is
sent as `\\X2222\\`.
Characters outside ASCII are left alone: the charset step (`mappings.charset`) handles them.
"""

from __future__ import annotations

import re
from typing import Final

_DELIMITERS: Final[dict[int, str]] = {
    ord("\\"): "\\E\\",
    ord("|"): "\\F\\",
    ord("^"): "\\S\\",
    ord("&"): "\\T\\",
    ord("~"): "\\R\\",
}
_CONTROLS: Final[dict[int, str]] = {
    code: f"\\X{code:02X}\\" for code in (*range(0x20), *range(0x7F, 0xA0)) if code != ord("\t")
}

_TEXT_TABLE: Final[dict[int, str]] = {**_CONTROLS, **_DELIMITERS}
_FT_TABLE: Final[dict[int, str]] = {
    **_CONTROLS,
    **_DELIMITERS,
    ord("\r"): "\\.br\\",
    ord("\n"): "\\.br\\",
}

# One scan decides whether a value needs the (slower) translation; most values do not.
_NEEDS_ESCAPE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\\|^&~]").search
# For long ASCII values (base64 attachments, up to 20 MiB) deleting the same characters from
# the bytes and comparing lengths is about three times faster than the regular expression.
_LONG: Final = 512
_ESCAPED_BYTES: Final = bytes(code for code in range(0x20) if code != ord("\t")) + b"\x7f\\|^&~"
_HL7_NULL: Final = '""'
_HL7_NULL_ESCAPED: Final = "\\X2222\\"


# The characters to replace, found in one scan; each kind is then replaced with `str.replace`,
# the backslash first (every replacement holds backslashes, and nothing else that is replaced):
# what `str.translate` with the table gives, without its lookup of every character (a letter
# with one line break took 3 µs that way).
_FIND_ESCAPED: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\\|^&~]").findall


def _translate(value: str, table: dict[int, str]) -> str:
    found = set(_FIND_ESCAPED(value))
    if "\\" in found:
        found.discard("\\")
        value = value.replace("\\", table[ord("\\")])
    for char in found:
        value = value.replace(char, table[ord(char)])
    return value


def _needs_escape(value: str) -> bool:
    if len(value) >= _LONG and value.isascii():
        raw = value.encode("ascii")
        return len(raw.translate(None, _ESCAPED_BYTES)) != len(raw)
    return _NEEDS_ESCAPE(value) is not None


# `escape` runs some seventy times per message, nearly always on a short value that needs
# nothing: that case is decided in the function itself, with one regular-expression scan.
def escape(value: str) -> str:
    """Escape a value of any type but FT/TX; line breaks become hex escapes."""
    if len(value) < _LONG:
        if _NEEDS_ESCAPE(value) is None:
            return _HL7_NULL_ESCAPED if value == _HL7_NULL else value
    elif not _needs_escape(value):
        return value  # 512 characters or more: not `""`
    return _translate(value, _TEXT_TABLE)


def escape_ft(value: str) -> str:
    """Escape an FT or TX value; each line break (CRLF, CR or LF) becomes `\\.br\\`."""
    if len(value) < _LONG:
        if _NEEDS_ESCAPE(value) is None:
            return _HL7_NULL_ESCAPED if value == _HL7_NULL else value
    elif not _needs_escape(value):
        return value
    if "\r\n" in value:
        value = value.replace("\r\n", "\n")
    return _translate(value, _FT_TABLE)


def escape_opt(value: str | None) -> str:
    """`escape`, with an absent value as an empty field."""
    if value is None:
        return ""
    if len(value) < _LONG and _NEEDS_ESCAPE(value) is None:
        return _HL7_NULL_ESCAPED if value == _HL7_NULL else value
    return escape(value)


def escape_all(*values: str) -> tuple[str, ...]:
    """`escape` of each value; one scan for all of them when none needs escaping (a name's or
    an address's parts nearly never do)."""
    if _NEEDS_ESCAPE("".join(values)) is None and _HL7_NULL not in values:
        return values
    return tuple(map(escape, values))
