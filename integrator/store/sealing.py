"""Sealing stored values with AES-256-GCM: payloads with patient data, unreadable at rest.

A sealed value carries everything needed to open it except the key: a version, the id of the
key that sealed it, the nonce, and the ciphertext with its tag. So keys can rotate: a store may
hold values under several keys at once, and each value names its own.

Binary columns hold the envelope as bytes::

    b"\\x89ITG" 0x01 <kid length: 1 byte> <kid, ASCII> <nonce: 12 bytes> <ciphertext + tag>

Text columns hold it as text (the kid readable, so a query can tell whose a value is)::

    $itg$1$<kid>$<base64 of nonce + ciphertext + tag>

Values written without a data key stay as they were, so a store that never had a key reads
exactly as before. The one ambiguity, a plain value that happens to start with the magic, is
removed by escaping it (``b"\\x89ITG" 0x00 <value>``, ``$itg$0$<value>``); the magic's first
byte is never the first byte of UTF-8 text, so in practice only hostile input is escaped.

The row's identity (table, column, row id) is the associated data: a sealed value copied into
another row or column does not open. Opening never returns garbage: a wrong key, a changed
byte or a moved value raises ``TamperedValue``; a value under a key not configured raises
``UnknownDataKey``. Neither message carries the value or the key.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from integrator.store.errors import TamperedValue, UnknownDataKey

MAGIC = b"\x89ITG"
TEXT_MAGIC = "$itg$"
SEALED = 1
PLAIN = 0
NONCE_BYTES = 12
KEY_BYTES = 32
KID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
"""A key id: 1 to 32 letters, digits, ``_``, ``.`` or ``-``, starting with a letter or digit."""


HEAD_BYTES = len(MAGIC) + 2
"""How much of a stored binary value ``opened_size`` needs: the magic, version, kid length."""
TAG_BYTES = 16


def opened_size(stored_size: int, head: bytes) -> int:
    """The size of a binary value as it was given, from its stored size and first bytes.

    Lets a listing say how large a value is without reading or opening it (the envelope's
    overhead is fixed once the kid's length is known).
    """
    if not head.startswith(MAGIC) or len(head) < len(MAGIC) + 1:
        return stored_size
    if head[len(MAGIC)] == PLAIN:
        return stored_size - len(MAGIC) - 1
    kid_length = head[len(MAGIC) + 1] if len(head) > len(MAGIC) + 1 else 0
    return stored_size - HEAD_BYTES - kid_length - NONCE_BYTES - TAG_BYTES


@dataclass(frozen=True, slots=True)
class DataKey:
    """One 256-bit key and its id; the key is left out of ``repr``."""

    kid: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not KID_PATTERN.fullmatch(self.kid):
            raise ValueError(f"key id {self.kid!r}: 1-32 of A-Z a-z 0-9 _ . - (no ':' or ',')")
        if len(self.key) != KEY_BYTES:
            raise ValueError(f"key {self.kid!r}: must be {KEY_BYTES} bytes (256 bits)")


def aad(table: str, column: str, identity: str) -> bytes:
    """The associated data binding a value to its place: table, column and row."""
    return f"{table}.{column}\x00{identity}".encode()


def place(associated: bytes) -> str:
    """Where a value lives, from its associated data, for errors: ``messages.payload of <id>``.

    Only table, column and row ids: an error may name them, never the value.
    """
    return associated.decode("utf-8", "replace").replace("\x00", " of ", 1)


class Sealer:
    """Seals with the first key and opens with any; without keys it stores values as given."""

    def __init__(self, keys: Sequence[DataKey] = ()) -> None:
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise ValueError("a key id appears twice")
        self._ciphers = {key.kid: AESGCM(key.key) for key in keys}
        self.kids: tuple[str, ...] = tuple(kids)

    @property
    def current_kid(self) -> str | None:
        """The id of the key new values are sealed with; ``None``: values are stored plain."""
        return self.kids[0] if self.kids else None

    # -- bytes ---------------------------------------------------------------------------

    def seal(self, value: bytes, associated: bytes) -> bytes:
        kid = self.current_kid
        if kid is None:
            return MAGIC + bytes([PLAIN]) + value if value.startswith(MAGIC) else value
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, value, associated)
        return MAGIC + bytes([SEALED, len(kid)]) + kid.encode("ascii") + nonce + sealed

    def open(self, value: bytes, associated: bytes) -> bytes:
        if not value.startswith(MAGIC):
            return value
        body = value[len(MAGIC) :]
        if body[:1] == bytes([PLAIN]):
            return body[1:]
        if body[:1] != bytes([SEALED]) or len(body) < 2:
            raise TamperedValue(f"{place(associated)}: a sealed envelope of an unknown version")
        size = body[1]
        kid_bytes, rest = body[2 : 2 + size], body[2 + size :]
        kid = kid_bytes.decode("ascii", "replace")
        return self._decrypt(kid, rest, associated)

    # -- text ----------------------------------------------------------------------------

    def seal_text(self, value: str, associated: bytes) -> str:
        kid = self.current_kid
        if kid is None:
            return f"{TEXT_MAGIC}{PLAIN}${value}" if value.startswith(TEXT_MAGIC) else value
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, value.encode("utf-8"), associated)
        return f"{TEXT_MAGIC}{SEALED}${kid}${base64.b64encode(nonce + sealed).decode('ascii')}"

    def open_text(self, value: str, associated: bytes) -> str:
        if not value.startswith(TEXT_MAGIC):
            return value
        body = value[len(TEXT_MAGIC) :]
        plain_mark = f"{PLAIN}$"
        if body.startswith(plain_mark):
            return body[len(plain_mark) :]
        version, _, rest = body.partition("$")
        kid, separator, encoded = rest.partition("$")
        if version != str(SEALED) or not separator:
            raise TamperedValue(f"{place(associated)}: a sealed envelope of an unknown version")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise TamperedValue(f"{place(associated)}: the sealed value is not base64") from None
        plain = self._decrypt(kid, raw, associated)
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise TamperedValue(f"{place(associated)}: the sealed value is not text") from None

    # -- what rotation and the key check need ----------------------------------------------

    def kid_prefix(self, kid: str) -> bytes:
        """How every binary value sealed under ``kid`` starts."""
        return MAGIC + bytes([SEALED, len(kid)]) + kid.encode("ascii")

    def kid_text_prefix(self, kid: str) -> str:
        """How every text value sealed under ``kid`` starts."""
        return f"{TEXT_MAGIC}{SEALED}${kid}$"

    def _decrypt(self, kid: str, raw: bytes, associated: bytes) -> bytes:
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownDataKey(kid, place(associated))
        if len(raw) < NONCE_BYTES + 16:
            raise TamperedValue(f"{place(associated)}: sealed with data key {kid!r}, cut short")
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated)
        except InvalidTag:
            raise TamperedValue(
                f"{place(associated)}: sealed with data key {kid!r}, does not open: the key "
                "configured under that id is not the one it was sealed with, or the value was "
                "changed or moved"
            ) from None


def sealed_kid(value: bytes | str | None) -> str | None:
    """The id of the key a stored value is sealed with; ``None`` for a plain value."""
    if isinstance(value, str):
        prefix = f"{TEXT_MAGIC}{SEALED}$"
        if not value.startswith(prefix):
            return None
        return value[len(prefix) :].partition("$")[0]
    if value is None or not value.startswith(MAGIC + bytes([SEALED])):
        return None
    size = value[len(MAGIC) + 1] if len(value) > len(MAGIC) + 1 else 0
    start = len(MAGIC) + 2
    return value[start : start + size].decode("ascii", "replace")
