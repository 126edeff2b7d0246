"""Small builders for store records; every call gives fresh ids so tests never collide."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from integrator.store import EnginePresence, EventRecord, NewMessage

T0 = datetime(2026, 11, 20, 8, 15, 0, 123456, tzinfo=UTC)


@dataclass
class StepClock:
    """A clock that moves one millisecond per reading, so stored times are distinct and ordered."""

    now: datetime = T0
    step: timedelta = field(default=timedelta(milliseconds=1))

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def new_id() -> str:
    return str(uuid.uuid4())


def typed_start(an_id: str, at_least: int = 8) -> str:
    """The start of ``an_id`` as a person types it: ``at_least`` characters, longer until it
    holds a hex letter. A start of digits alone may be a date of birth or a phone number, so
    no answer repeats or names it (``idprefix.shown``): a test giving a random id's first 8
    characters failed about once in 40 runs, when those were all digits."""
    end = at_least
    while end < len(an_id) and not any(c in "abcdef" for c in an_id[:end].lower()):
        end += 1
    return an_id[:end]


def make_event(**overrides: Any) -> EventRecord:
    values: dict[str, Any] = {
        "id": new_id(),
        "type": "referral",
        "action": "new",
        "zd_number": "ZD100000001",
        "provider_id": "ziekenhuis-noord",
        "received_at": T0,
        "source": "http",
        "payload": {"patient": {"name": {"family": "Jansen"}}, "note": "café ł"},
    }
    values.update(overrides)
    return EventRecord(**values)


def make_message(**overrides: Any) -> NewMessage:
    values: dict[str, Any] = {
        "id": new_id(),
        "destination_id": "ziekenhuis-noord",
        "version": "ref-v2",
        "message_type": "REF^I12^REF_I12",
        "control_id": uuid.uuid4().hex[:20],
        "payload": (
            b"MSH|^~\\&|INTEGRATOR||HIS|ZNOORD|20261120091500+0100||REF^I12^REF_I12|x|P|2.5.1\r"
        ),
    }
    values.update(overrides)
    return NewMessage(**values)


def engine_elsewhere(data_keys: str = "kid1,kid2") -> EnginePresence:
    """A running engine on another host, with these key ids (its sealing key first): by
    default one opened with the old key first, so it seals with kid1."""
    now = datetime.now(UTC)
    return EnginePresence(
        id="late",
        host="engine-host-elsewhere",
        pid=4243,
        http_address=None,
        started_at=now,
        heartbeat_at=now,
        data_keys=data_keys,
    )


def dead_pid() -> int:
    """The pid of a process that has ended and been reaped: no process has it (for now)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
