"""A segment-grammar check built from hl7apy's message structure tables.

hl7apy's parser silently drops segments its structure does not expect and never checks their
order, so it cannot tell a conformant message from a scrambled one. This module reads the same
structure tables (`hl7apy.load_reference(<structure>, "Message", <version>)`: nested sequences
and choices of segments and groups, each with a (min, max) cardinality) and matches a message's
segment names against them: order, cardinality, and only segments the structure allows.

Matching keeps the *set* of positions reachable after each element (like an NFA), so optional
and repeating groups never need backtracking and the furthest position reached tells where a
message stopped fitting.

The ORM `OBR|RQD|RQ1|RXO|ODS|ODT` group is a choice in HL7; it is always treated as one here,
whatever kind the table gives it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

import hl7apy

UNBOUNDED: Final = -1
_CHOICE_SEGMENTS: Final = frozenset({"OBR", "RQD", "RQ1", "RXO", "ODS", "ODT"})


@dataclass(frozen=True, slots=True)
class Node:
    """A segment (`children` empty) or a group (`choice` or sequence) with its cardinality."""

    name: str
    minimum: int
    maximum: int
    children: tuple[Node, ...] = ()
    choice: bool = False


class GrammarError(AssertionError):
    """The segment list does not fit the structure; says where."""


def _node(entry: Any) -> Node:
    name, structure, (minimum, maximum), kind = entry[0], entry[1], entry[2], entry[3]
    if kind == "SEG":
        return Node(name, minimum, maximum)
    children = tuple(_node(child) for child in structure[1])
    names = {child.name for child in children if not child.children}
    choice = structure[0] == "choice" or names == _CHOICE_SEGMENTS
    return Node(name, minimum, maximum, children, choice)


@functools.cache
def structure(message_structure: str, hl7_version: str) -> Node:
    """The grammar of e.g. `ORM_O01` in `2.4`, from hl7apy's tables."""
    reference = hl7apy.load_reference(message_structure, "Message", hl7_version)
    return Node(message_structure, 1, 1, tuple(_node(child) for child in reference[1]))


def _once(node: Node, names: list[str], starts: frozenset[int], reach: list[int]) -> frozenset[int]:
    if not node.children:
        ends = frozenset(p + 1 for p in starts if p < len(names) and names[p] == node.name)
    elif node.choice:
        ends = frozenset().union(*(_repeat(c, names, starts, reach) for c in node.children))
    else:
        ends = starts
        for child in node.children:
            ends = _repeat(child, names, ends, reach)
    if ends:
        reach[0] = max(reach[0], *ends)
    return ends


def _repeat(
    node: Node, names: list[str], starts: frozenset[int], reach: list[int]
) -> frozenset[int]:
    result: set[int] = set(starts) if node.minimum == 0 else set()
    current = starts
    count = 0
    while current and (node.maximum == UNBOUNDED or count < node.maximum):
        current = _once(node, names, current, reach)
        count += 1
        if count >= node.minimum:
            if current <= result:
                break  # nothing new: more repetitions cannot reach further
            result |= current
    return frozenset(result)


def check(names: list[str], message_structure: str, hl7_version: str) -> None:
    """Raise `GrammarError` unless `names` (segment names in order) fit the structure."""
    root = structure(message_structure, hl7_version)
    reach = [0]
    ends = _once(root, names, frozenset({0}), reach)
    if len(names) not in ends:
        position = reach[0]
        found = names[position] if position < len(names) else "end of message"
        raise GrammarError(
            f"{message_structure} {hl7_version}: segment {position + 1} ({found}) does not fit "
            f"after {' '.join(names[:position]) or 'the start'}"
        )


def fits(names: list[str], message_structure: str, hl7_version: str) -> bool:
    try:
        check(names, message_structure, hl7_version)
    except GrammarError:
        return False
    return True
