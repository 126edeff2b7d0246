"""``entry_hash`` writes the canonical JSON key by key (for ``audit verify``'s speed); the text
must be the rule's own, ``json.dumps`` with sorted keys, compact separators and no ASCII
escaping, for every value an entry can hold, or every chain written before would read as
edited."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from integrator.store.audit_chain import GENESIS, canonical_content, entry_hash

# Any text: quotes, backslashes, control characters, non-ASCII, astral characters. Lone
# surrogates are left out: neither writing can encode them as UTF-8 (both raise).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none()
)
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-9))])


@settings(max_examples=400, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    at=MOMENTS,
    zone=ZONES,
    actor=TEXT,
    action=TEXT,
    target=TEXT,
    reason=st.none() | TEXT,
    details=TEXT,
)
def test_the_hash_is_of_the_rules_own_text(
    seq: int,
    at: datetime,
    zone: timezone | None,
    actor: str,
    action: str,
    target: str,
    reason: str | None,
    details: str,
) -> None:
    moment = at if zone is None else at.replace(tzinfo=zone)
    content = canonical_content(seq, moment, actor, action, target, reason, details)
    expected = hashlib.sha256((GENESIS + content).encode("utf-8")).hexdigest()
    assert entry_hash(GENESIS, seq, moment, actor, action, target, reason, details) == expected


def test_a_known_entry_keeps_its_hash() -> None:
    """An entry as the chain has always hashed it (the text spelled out), so the rule itself
    cannot drift with its two writings together."""
    at = datetime(2026, 12, 5, 4, 30, tzinfo=UTC)
    text = (
        '{"action":"message.resend","actor":"token:ops é","at":"2026-12-05T04:30:00.000000+00:00",'
        '"details":"{\\"n\\":1}","reason":null,"seq":7,"target":"m\\"1"}'
    )
    assert canonical_content(7, at, "token:ops é", "message.resend", 'm"1', None, '{"n":1}') == text
    expected = hashlib.sha256((GENESIS + text).encode("utf-8")).hexdigest()
    assert entry_hash(GENESIS, 7, at, "token:ops é", "message.resend", 'm"1', None, '{"n":1}') == (
        expected
    )
