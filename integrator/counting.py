"""A count said with its noun in agreement: "1 message", "2 messages", never "1 message(s)".

A "(s)" reads as a tool that did not look at its own number. Every sentence a person reads
(the CLI, errors, log lines) says its counts through here; the verb that agrees with the count
is written out beside it where the sentence has one (``"waits" if n == 1 else "wait"``).

Standard library only and importing nothing of the project: the store, which imports nothing
above it, says its counts with it too.
"""

from __future__ import annotations


def counted(count: int, one: str, many: str | None = None) -> str:
    """``count`` and its noun: ``one`` for exactly one, ``many`` (``one`` + "s" unless the
    noun is irregular: "copy"/"copies") for any other count, zero included ("0 messages")."""
    noun = one if count == 1 else (many if many is not None else f"{one}s")
    return f"{count} {noun}"
