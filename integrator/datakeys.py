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


def new_key_entry(kid: str) -> str:
    """A setting entry with a fresh random key, for ``integrator keys generate``."""
    if not KID_PATTERN.fullmatch(kid):
        raise DataKeysSettingError(
            f"key id {kid!r}: 1-32 letters, digits, '_', '.' or '-', starting with a letter or "
            "digit"
        )
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"
