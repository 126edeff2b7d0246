"""A receiver that answers every message with one ACK code and words of its choosing in MSA-3:
as long as it likes, holding what it likes (terminal escape sequences). For the tests of how
those words are kept and shown."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner, Result

from integrator.cli import app
from tests.delivery.misbehaving import FS_CR, VT, MisbehavingReceiver, Received, ack_for
from tests.integrator.support import settings_for


class WordyReceiver(MisbehavingReceiver):
    """A ``MisbehavingReceiver`` whose every answer is ``code`` with ``words`` as MSA-3; each
    ACK it wrote is in the log (``Received.sent``), as it wrote it."""

    def __init__(self, code: str, words: str) -> None:
        super().__init__(default="words")
        self.code = code
        self.words = words

    async def _answer(
        self, message: bytes, behaviour: str, entry: Received, writer: asyncio.StreamWriter
    ) -> bool:
        if behaviour != "words":
            return await super()._answer(message, behaviour, entry, writer)
        ack = ack_for(message, self.code).removesuffix(b"\r") + f"|{self.words}\r".encode()
        entry.sent.append(ack)
        writer.write(VT + ack + FS_CR)
        await writer.drain()
        return True

    def acks_sent(self) -> list[bytes]:
        """Every ACK written, in order."""
        return [ack for received in self.log for ack in received.sent]


def shown(tmp_path: Path, command: str, message_id: str, *more: str) -> Result:
    """``integrator <command> show <message_id>`` (``messages``, ``deadletter``) on the store
    an engine of these tests left in ``tmp_path``, as an operator on the server runs it."""
    env = {
        "INTEGRATOR_DATABASE_URL": settings_for(tmp_path).database_url,
        "INTEGRATOR_DESTINATIONS_DIR": str(tmp_path),
        "USER": "piet",
    }
    return CliRunner().invoke(app, [command, "show", message_id, *more], env=env)
