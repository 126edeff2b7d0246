"""Encoding message text into the bytes of a version's MSH-18 character set.

Encoding never fails (product.md §4): a referral must not be lost because a name has a `ł` in it.
For `8859/1` every character outside Latin-1 is transliterated, by a table of common letters
and symbols first, then by Unicode compatibility decomposition (NFKD) with the combining marks
dropped (`ś` → `s`, `ĳ` → `ij`), and otherwise becomes `?`. For `UNICODE UTF-8` only lone
surrogates (which a JSON body can carry but UTF-8 cannot) become `?`.

A transliteration can never produce an HL7 delimiter or a control character: a fullwidth `＾`
decomposes to `^`, which would split a component after escaping already ran, so such results
become `?` as well. Nor the HL7 null: a value of two typographic double quotes (`“”`) would
become `""`, "delete this value" to a receiver, so it is sent as `\\X2222\\`, as escaping sends
a `""` typed as such. Text is composed (NFC) first, so a letter typed decomposed (`u` and a
combining diaeresis, as phones and Macs send it) is the Latin-1 `ü`, not `u?`; a combining mark
nothing composes with is dropped, its letter kept.

The returned warnings state how many characters were changed, never which ones: they are
logged and shown to operators, and the characters come from patient data.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

from mappings.errors import UnknownCharsetError
from shapes import NUMBER, Shape

UTF8: Final = "UNICODE UTF-8"
LATIN1: Final = "8859/1"
CODECS: Final[dict[str, str]] = {UTF8: "utf-8", LATIN1: "latin-1"}

REPLACEMENT: Final = "?"

# The warnings (`shapes`), each for one character and for more; `replacement` is
# REPLACEMENT.
TRANSLITERATED_ONE: Final = Shape(
    "charset.transliterated_one", "1 character outside ISO 8859-1 was transliterated"
)
TRANSLITERATED: Final = Shape(
    "charset.transliterated",
    "{count} characters outside ISO 8859-1 were transliterated",
    count=NUMBER,
)
REPLACED_ONE: Final = Shape(
    "charset.replaced_one",
    "1 character without a Latin-1 equivalent was replaced by '{replacement}'",
    replacement=re.escape(REPLACEMENT),
)
REPLACED: Final = Shape(
    "charset.replaced",
    "{count} characters without a Latin-1 equivalent were replaced by '{replacement}'",
    count=NUMBER,
    replacement=re.escape(REPLACEMENT),
)
SURROGATES_ONE: Final = Shape(
    "charset.surrogates_one",
    "1 character that cannot be encoded in UTF-8 (lone surrogates) was replaced by '{replacement}'",
    replacement=re.escape(REPLACEMENT),
)
SURROGATES: Final = Shape(
    "charset.surrogates",
    "{count} characters that cannot be encoded in UTF-8 (lone surrogates) were replaced by "
    "'{replacement}'",
    count=NUMBER,
    replacement=re.escape(REPLACEMENT),
)

_UNSAFE: Final = frozenset("|^~\\&") | frozenset(chr(code) for code in range(0x20))

# Letters NFKD leaves alone (no decomposition) and the punctuation Dutch text really contains.
_TABLE: Final[dict[str, str]] = {
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "ı": "i", "ĸ": "k",
    "ŀ": "l", "Ŀ": "L", "œ": "oe", "Œ": "OE", "ŋ": "n", "Ŋ": "N", "ƒ": "f", "ə": "e",
    "Ə": "E", "€": "EUR", "‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"',
    "”": '"', "„": '"', "‟": '"', "‹": "<", "›": ">", "‐": "-", "‑": "-", "‒": "-",
    "–": "-", "—": "-", "―": "-", "…": "...", "•": "*", "′": "'", "″": '"', "←": "<-",
    "→": "->", "≤": "<=", "≥": ">=", "™": "TM",
}  # fmt: skip


def encode(text: str, charset: str) -> tuple[bytes, tuple[str, ...]]:
    """`text` as bytes in `charset` (an MSH-18 value), with warnings if characters changed."""
    codec = CODECS.get(charset)
    if codec is None:
        raise UnknownCharsetError(charset, CODECS)
    try:
        return text.encode(codec), ()
    except UnicodeEncodeError:
        pass
    if codec == "latin-1":
        return _encode_latin1(text)
    replaced = sum(1 for char in text if "\ud800" <= char <= "\udfff")
    return text.encode(codec, "replace"), (_counted(replaced, SURROGATES_ONE, SURROGATES),)


_QUOTES: Final = '"“”„‟″'
_QUOTE_PAIR: Final = re.compile(f"(?:(?<=[|^~&\r])|^)[{_QUOTES}]{{2}}(?=[|^~&\r]|$)")
"""A value of two double quotes, one at least typographic: transliterated, it would be `""`,
which a receiver reads as "delete this value" (an escaped `""` is `\\X2222\\` already)."""


def _encode_latin1(text: str) -> tuple[bytes, tuple[str, ...]]:
    # Composed first: a name typed on a phone or a Mac comes decomposed (NFD), `u` and a
    # combining diaeresis, whose mark has no Latin-1 form of its own; composed, `ü` is Latin-1.
    # "Müller" went out as "Mu?ller".
    text = unicodedata.normalize("NFC", text)
    typographic = [pair for pair in _QUOTE_PAIR.findall(text) if pair != '""']
    if typographic:
        text = _QUOTE_PAIR.sub(lambda pair: "\\X2222\\" if pair[0] != '""' else pair[0], text)
    changed = 2 * len(typographic)
    unmatched = 0
    out: list[str] = []
    for char in text:
        if char <= "\xff":
            out.append(char)
            continue
        changed += 1
        substitute = transliterate_char(char)
        if substitute == REPLACEMENT:
            unmatched += 1
        out.append(substitute)
    warnings = [_counted(changed, TRANSLITERATED_ONE, TRANSLITERATED)] if changed else []
    if unmatched:
        warnings.append(_counted(unmatched, REPLACED_ONE, REPLACED))
    return "".join(out).encode("latin-1"), tuple(warnings)


@functools.lru_cache(maxsize=4096)
def transliterate_char(char: str) -> str:
    """A Latin-1 stand-in for one character outside Latin-1; `?` when there is none."""
    substitute = _TABLE.get(char)
    if substitute is None and unicodedata.combining(char):
        return ""  # a mark no letter before it composes with: the letter stays, unmarked
    if substitute is None:
        decomposed = unicodedata.normalize("NFKD", char)
        substitute = "".join(part for part in decomposed if not unicodedata.combining(part))
    if (
        not substitute
        or any(part > "\xff" for part in substitute)
        or not _UNSAFE.isdisjoint(substitute)
    ):
        return REPLACEMENT
    return substitute


def _counted(number: int, one: Shape, more: Shape) -> str:
    """The warning `one` for one character, else `more` with the count."""
    if number == 1:
        return one(replacement=REPLACEMENT)
    return more(count=number, replacement=REPLACEMENT)
