"""What rejected input can be found by, read from a body that failed validation.

A GP whose system says "I sent ZD300000001 and the hospital never got it" gives support a ZD
number, sometimes a provider or the patient's BSN. When intake refused that referral, the body
is kept sealed and as it arrived (``Store.reject_event``); to find it without opening every
piece, intake reads these from the body as it refuses it and the store keeps them in indexed
columns. The body broke a rule, so any of them may be missing, of the wrong type or malformed:
each is taken only when it has a sane shape, and anything else leaves it out. Reading them
never refuses anything and never raises: the rejection itself must be kept whatever the body.

- ZD number: a string that is ``ZD`` and nine digits once trimmed and upper-cased, the form a
  search normalises what people type to (``search.normalise_zd``).
- Provider: ``provider.id``, a trimmed string of at most ``MAX_PROVIDER`` printable
  characters: an identifier, not free text (events keep it in a column as wide).
- BSN: ``patient.bsn`` that passes the eleven-test once spaces and dots are gone (the rule a
  BSN search holds what people type to, so no other could ever be found), kept only as its
  keyed hash (``Settings.bsn_hash``), as for events; without a search key, none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from integrator.search import holds_bsn
from integrator.store.records import RejectedKeys
from schemas.fields import MAX_PROVIDER_ID
from schemas.identifiers import is_valid_bsn, is_valid_zd_number

MAX_PROVIDER: Final = MAX_PROVIDER_ID
"""The longest provider id kept: the width of ``events.provider_id``, as intake's rule says."""

_BSN_SEPARATORS: Final = re.compile(r"[\s.]")


def read_keys(
    raw: bytes | str | Mapping[str, Any], hash_bsn: Callable[[str], str] | None
) -> RejectedKeys:
    """The ZD number, provider and BSN hash of a refused body, each None when it cannot be
    read; ``hash_bsn`` turns a BSN into its keyed hash (None, or raising: no hash kept)."""
    try:
        body = raw if isinstance(raw, Mapping) else json.loads(raw)
    except Exception:  # not JSON, not UTF-8, too deep: nothing to read, the rejection stands
        return RejectedKeys()
    if not isinstance(body, Mapping):
        return RejectedKeys()
    return RejectedKeys(
        zd_number=_zd_number(body.get("zd_number")),
        provider_id=_provider(body.get("provider")),
        bsn_hash=_bsn_hash(body.get("patient"), hash_bsn),
    )


def _zd_number(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    normalised = value.strip().upper()
    return normalised if is_valid_zd_number(normalised) else None


def _provider(value: object) -> str | None:
    if not isinstance(value, Mapping):
        return None
    given = value.get("id")
    if not isinstance(given, str):
        return None
    provider = given.strip()
    if not provider or len(provider) > MAX_PROVIDER or not provider.isprintable():
        return None
    if holds_bsn(provider):  # the patient's number, refused as such: never a search key
        return None
    return provider


def _bsn_hash(patient: object, hash_bsn: Callable[[str], str] | None) -> str | None:
    if hash_bsn is None or not isinstance(patient, Mapping):
        return None
    given = patient.get("bsn")
    if not isinstance(given, str):
        return None
    digits = _BSN_SEPARATORS.sub("", given)
    if not is_valid_bsn(digits):
        return None
    try:
        return hash_bsn(digits)
    except Exception:  # no search key (SearchKeyError): the piece is kept without its hash
        return None
