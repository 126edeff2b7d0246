"""The data keys that seal payloads at rest: the ``INTEGRATOR_DATA_KEYS`` setting.

Format: comma-separated ``<key id>:<key>`` entries, the key in base64 of 32 random bytes
(``integrator keys generate`` prints a new entry; ``openssl rand -base64 32`` gives a key).
The FIRST entry seals new values; the others only open values sealed earlier, which is how a
key is rotated: put the new entry first, keep the old one until ``integrator keys rotate`` has
moved every value to the new key, then drop it.

Errors name the setting, the entry's position and its key id, and the rule; never a key.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from collections.abc import Mapping
from datetime import date

from integrator.errors import ConfigurationError
from integrator.store.sealing import KEY_BYTES, KID_PATTERN, DataKey, Sealer

SETTING = "INTEGRATOR_DATA_KEYS"


class DataKeysSettingError(ConfigurationError):
    """``INTEGRATOR_DATA_KEYS`` does not follow its format."""


def parse_data_keys(text: str) -> list[DataKey]:
    """The keys of the setting, current first; raises ``DataKeysSettingError``."""
    entries = [entry.strip() for entry in text.split(",")]
    if not any(entries):
        raise DataKeysSettingError(
            f"{SETTING} is set but empty: give <key id>:<base64 key>, or unset it"
        )
    keys: list[DataKey] = []
    for position, entry in enumerate(entries, start=1):
        where = f"{SETTING} entry {position}"
        if not entry:
            raise DataKeysSettingError(f"{where} is empty (a stray comma?)")
        kid, colon, encoded = entry.partition(":")
        kid = kid.strip()
        if not colon:
            raise DataKeysSettingError(f"{where}: give <key id>:<base64 key>, with a colon")
        if not KID_PATTERN.fullmatch(kid):
            raise DataKeysSettingError(
                f"{where}: the key id must be 1-32 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit"
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise DataKeysSettingError(f"{where} (key id {kid!r}): the key is not base64") from None
        if len(key) != KEY_BYTES:
            raise DataKeysSettingError(
                f"{where} (key id {kid!r}): the key must be {KEY_BYTES} bytes (256 bits) in "
                f"base64, not {len(key)} bytes"
            )
        if any(existing.kid == kid for existing in keys):
            raise DataKeysSettingError(f"{where}: the key id {kid!r} appears twice")
        keys.append(DataKey(kid, key))
    return keys


def sealer_for(text: str | None) -> Sealer:
    """The sealer of the setting's value; without one, values are stored as given."""
    return Sealer(parse_data_keys(text) if text is not None else ())


def fresh_key_id(wanted: str | None, taken: Mapping[str, str], today: date) -> str:
    """The id for a new key: ``wanted``, or ``k<today>`` (``k20261205``, then ``k20261205b``
    … when generated again that day), never one in ``taken`` (id -> where it is taken, in
    words: the setting, the store).

    Each sealed value names its key by id, and the store notes each id's key: a second key
    under an id the store or the setting already has would be taken for the first, and the
    values sealed with that one, also in backups, would no longer open with it at hand."""
    if wanted is not None:
        if wanted in taken:
            raise DataKeysSettingError(
                f"key id {wanted!r} is already {taken[wanted]}: a new key under the same id "
                "would be taken for that one, and what it sealed would not open; choose "
                "another --id"
            )
        return wanted
    day = f"k{today:%Y%m%d}"
    for suffix in ("", *string.ascii_lowercase[1:]):
        candidate = f"{day}{suffix}"
        if candidate not in taken:
            return candidate
    raise DataKeysSettingError(f"every key id from {day} to {day}z is taken: give --id")


def new_key_entry(kid: str) -> str:
    """A setting entry with a fresh random key, for ``integrator keys generate``."""
    if not KID_PATTERN.fullmatch(kid):
        raise DataKeysSettingError(
            f"key id {kid!r}: 1-32 letters, digits, '_', '.' or '-', starting with a letter or "
            "digit"
        )
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"
