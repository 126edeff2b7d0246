"""Writing a changed definition into a destination file without losing what people wrote there.

Operators annotate their destination files: why a timeout is short, who agreed on MSH-5, which
TLS files to use once the hospital is ready. A tool that rewrites the file from the model throws
all of that away, so a change is applied to the file's own YAML document (a ruamel.yaml round
trip) instead:

- a key whose value still means the same keeps its exact text, comment and place (``30s`` and
  ``30000ms`` mean the same; the model decides, not the spelling);
- a changed value is replaced where it stands, keeping the comment on its line;
- a key the new definition needs is inserted where docs/product.md §5.1 puts it; a key that
  only repeats a default is not added;
- a key that may not stay (an unknown key in a refused file, a message type dropped) is removed,
  and the comment lines below it stay where they were.

ruamel.yaml keeps comments and quotes, but its emitter writes the whole document out in its own
way: ``port:   2575`` loses its aligning spaces, a flow section spread over two lines (as
docs/product.md §5.1 writes ``retry``) is folded onto one, ``~`` becomes ``null``, ``yes``
``true``, CRLF line ends LF, and every section gets the indentation of the first. Taken whole,
its output rewrote lines nobody changed. So it is never taken whole: the document is dumped
once as loaded and once changed, and only the lines in which those two differ are changed in
the file's own text (``_splice``); every other line keeps its bytes. A text that already
defines the definition is given back as it is, not one byte touched.

What a value means is judged without looking at the files ``tls`` names (``_means``): they were
checked when the definition was made, and one gone since (a certificate being renewed) made
every value of the file seem to mean something else, so each was written anew.

The result is read back with the engine's own loader and must give exactly the definition asked
for; otherwise nothing is written (``RuntimeError``: that would be a bug here, not a user's
mistake). A text that is not a YAML mapping at all has nothing worth keeping and is replaced by a
clean file.
"""

from __future__ import annotations

import copy
import difflib
import io
import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tokens import CommentToken

from destinations.config import (
    EVENT_TYPES,
    FILES_UNCHECKED,
    NAMES_AS_RECORDED,
    DestinationConfig,
    DestinationFileError,
    RetrySettings,
    TlsSettings,
    definition_of,
    destination_from_yaml,
    dump_destination,
)

_ABSENT = object()
_ORDER: dict[tuple[str, ...], list[str]] = {
    (): list(DestinationConfig.model_fields),
    ("retry",): list(RetrySettings.model_fields),
    ("tls",): list(TlsSettings.model_fields),
    ("messages",): list(EVENT_TYPES),
}


class _Yaml11Resolver(VersionedResolver):
    """Resolve plain scalars as YAML 1.1, like the engine's loader (PyYAML) does.

    Under ruamel's default (1.2) a provider id ``yes`` would be written unquoted and read back
    by the engine as ``True``; under 1.1 rules it is quoted.
    """

    @property
    def processing_version(self) -> Any:
        return (1, 1)


_SECTION = re.compile(r"^(?P<indent> *)[^\s#-][^#]*:\s*(#.*)?$")  # "key:" opening a block


def _guess_indent(text: str) -> tuple[int, int]:
    """How the file indents a section's keys, and a list's dashes (ruamel does not keep it)."""
    mapping, dash = 2, 0
    lines = [line for line in text.splitlines() if line.strip() and line.lstrip()[:1] != "#"]
    seen_mapping = seen_list = False
    for parent, child in itertools.pairwise(lines):
        opening = _SECTION.match(parent)
        if opening is None:
            continue
        depth = len(child) - len(child.lstrip(" ")) - len(opening["indent"])
        if child.lstrip(" ").startswith("- "):
            if not seen_list and depth >= 0:
                dash, seen_list = depth, True
        elif not seen_mapping and depth > 0:
            mapping, seen_mapping = depth, True
    return mapping, dash


def _round_trip(text: str = "") -> YAML:
    yaml = YAML(typ="rt")
    mapping, dash = _guess_indent(text)
    yaml.indent(mapping=mapping, sequence=dash + 2, offset=dash)
    yaml.Resolver = _Yaml11Resolver
    yaml.width = 4096  # never fold a long value onto a second line
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = True  # a refused file may repeat a key: keep the rest of it
    yaml.representer.add_representer(type(None), _represent_null)
    return yaml


def _represent_null(representer: Any, _data: None) -> Any:
    # ruamel writes ``key:`` with nothing after it; the examples and docs write ``null``.
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def render_onto(text: str | None, config: DestinationConfig) -> str:
    """``text`` (a destination file, possibly refused) changed to define exactly ``config``."""
    clean = dump_destination(config)
    if text is None:
        return clean
    if _defines(text, config):
        return text  # nothing to change, so not one byte: ruamel would still restyle lines
    if "\n" in text and text.count("\r\n") == text.count("\n"):  # a file saved on Windows
        return render_onto(text.replace("\r\n", "\n"), config).replace("\n", "\r\n")
    yaml = _round_trip(text)
    try:
        document = yaml.load(text)
    except YAMLError:
        return clean
    if not isinstance(document, CommentedMap):
        return clean
    as_loaded = _dumped(yaml, yaml.load(text))
    target = _Target(config)
    _sync(document, target.plain, (), target)
    changed = _dumped(yaml, document)
    # The change made to the file's own lines; ruamel's whole output only should that not
    # read back (lines it restyled and the change touched, in a way the splice cannot join).
    for result in (_splice(text, as_loaded, changed), changed):
        if _defines(result, config):
            return result
    raise RuntimeError(f"rewriting the file of {config.id!r} would not give its definition")


def _dumped(yaml: YAML, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _defines(text: str, config: DestinationConfig) -> bool:
    """Whether ``text`` loads as ``config`` (its files not looked at: as recorded)."""
    try:
        loaded = destination_from_yaml(text, source="(rewritten file)", check_files=False)
    except DestinationFileError:
        return False
    return loaded == config


# -- deciding --------------------------------------------------------------------------------


class _Target:
    """The definition to arrive at, as the model and as the plain data a file holds."""

    def __init__(self, config: DestinationConfig) -> None:
        self.config = config
        self.plain = definition_of(config)


def same_meaning(config: DestinationConfig) -> Callable[[str, Any], bool]:
    """Whether a value written at a top-level key of a file that defines ``config`` leaves it
    ``config``, as a change is written: ``20000ms`` for ``ack_timeout: 20s`` does, a section
    (``retry:``) means its keys with the others at their defaults, and a value that does not
    validate (or a key the file may not have) never does. For telling which keys of a refused
    file an edit changed (``integrator.refused_edits``)."""
    target = _Target(config)
    return lambda key, value: _means(target, (key,), _plain(value))


def _means(target: _Target, path: tuple[str, ...], value: Any) -> bool:
    """Would the definition stay the target with ``value`` (or nothing) written at ``path``?"""
    candidate = copy.deepcopy(target.plain)
    node = candidate
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return False
        node = child
    if value is _ABSENT:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    # The target's cluster may predate its name's rule (a revision recorded before it): a
    # candidate is compared with it, not held to the rule it was never refused by. Nor are its
    # TLS files looked at: a value's meaning is the same whether or not a certificate named
    # elsewhere in the file is there today, and judged with them, one gone made every key of
    # the file differ, so the whole file was rewritten.
    context = {**FILES_UNCHECKED, **NAMES_AS_RECORDED}
    try:
        return DestinationConfig.model_validate(candidate, context=context) == target.config
    except (ValidationError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """A round-trip value as the plain Python the model validates (no ruamel subclasses)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


# -- changing --------------------------------------------------------------------------------


def _sync(node: CommentedMap, want: dict[str, Any], path: tuple[str, ...], target: _Target) -> None:
    for key in [k for k in node if k not in want]:
        _remove(node, key)
    for key, value in want.items():
        here = (*path, key)
        if key in node:
            current = node[key]
            if isinstance(value, dict) and isinstance(current, CommentedMap):
                _sync(current, value, here, target)
            elif not _means(target, here, _plain(current)):
                fresh = _fresh(value, here, target)
                if fresh == {} and _means(target, here, _ABSENT):
                    _remove(node, key)  # a section of defaults only: leave it out
                else:
                    _replace(node, key, fresh)
        elif not _means(target, here, _ABSENT):
            _insert(node, key, _fresh(value, here, target), path)


def _fresh(value: Any, path: tuple[str, ...], target: _Target) -> Any:
    """``value`` as a new YAML node: sections in block style with only the keys that matter,
    lists in flow style (``providers: [a, b]``), as ``dump_destination`` writes them."""
    if isinstance(value, dict):
        section = CommentedMap()
        _sync(section, value, path, target)
        return section
    if isinstance(value, list):
        items = CommentedSeq(value)
        items.fa.set_flow_style()
        return items
    return value


def _replace(node: CommentedMap, key: Any, value: Any) -> None:
    current = node[key]
    # A list changed item by item; a block list emptied is a section replaced (below).
    lists = isinstance(value, CommentedSeq) and isinstance(current, CommentedSeq)
    if lists and (value or not _is_block(current)):
        _replace_items(node, key, list(value))
        return
    if _is_block(current):
        # The lines after a section belong to what follows it; keep them where they are.
        rest = _split_following(current, _last_key(current))
        node[key] = value
        if rest:
            _append_following(node, key, rest)
        return
    if _is_block(value):
        rest = _split_following(node, key)
        node[key] = value
        if rest:
            _append_following(node, key, rest)
        return
    node[key] = value


def _replace_items(node: CommentedMap, key: Any, items: list[Any]) -> None:
    """The list ``node[key]`` made ``items`` item by item: one that stays keeps its line, its
    quotes and its comment; the lines after the list stay after it. (Replaced whole, the list
    lost all three, and the comment lines below it with its last item.)"""
    current = node[key]
    rest = _split_following(node, key)
    matcher = difflib.SequenceMatcher(None, [_plain(v) for v in current], items, autojunk=False)
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1)
        for k in range(common):  # in place: the comment on its line stays
            current[i1 + k] = items[j1 + k]
        for index in reversed(range(i1 + common, i2)):
            del current[index]
        for offset, item in enumerate(items[j1 + common : j2]):
            current.insert(i1 + common + offset, item)
    if rest:
        _append_following(node, key, rest)


def _insert(node: CommentedMap, key: str, value: Any, path: tuple[str, ...]) -> None:
    order = _ORDER.get(path, [])
    later = set(order[order.index(key) + 1 :]) if key in order else set()
    keys = list(node)
    position = next((i for i, k in enumerate(keys) if k in later), len(keys))
    rest = _split_following(node, keys[position - 1]) if position > 0 else ""
    node.insert(position, key, value)
    if rest:
        _append_following(node, key, rest)


def _remove(node: CommentedMap, key: Any) -> None:
    keys = list(node)
    index = keys.index(key)
    rest = _split_following(node, key)
    del node[key]
    node.ca.items.pop(key, None)
    if rest and index > 0:
        _append_following(node, keys[index - 1], rest)


# -- splicing --------------------------------------------------------------------------------
# A hunk: the lines [start, end) of ruamel's rendering of the file as loaded, and what stands
# there instead (in the changed rendering, or in the file's own text).

_Hunk = tuple[int, int, list[str]]


def _splice(original: str, as_loaded: str, changed: str) -> str:
    """``original`` with the lines that differ between ``as_loaded`` and ``changed`` (ruamel's
    renderings of it before and after the change) changed alike; every other line as it was.

    A three-way merge on ruamel's rendering: the change's hunks, and the hunks in which the
    file's own text differs from that rendering (its style, restored); where both touch the
    same lines, the change's (the line is rewritten anyway)."""
    base = _lines(as_loaded)
    edits = _hunks(base, _lines(changed))
    styles = [h for h in _hunks(base, _lines(original)) if not any(_overlap(h, e) for e in edits)]
    out: list[str] = []
    at = 0
    # At one place, the change's new lines before the file's (a key added at the end comes
    # before a closing ``...``).
    order = sorted([(*h, 0) for h in edits] + [(*h, 1) for h in styles], key=_place)
    for start, end, lines, _ in order:
        out += base[at:start]
        out += lines
        at = end
    out += base[at:]
    return "".join(out)


def _place(hunk: tuple[int, int, list[str], int]) -> tuple[int, int, int]:
    start, end, _, side = hunk
    return start, end, side


def _lines(text: str) -> list[str]:
    """The lines of ``text`` with their ends, split at ``\\n`` only (``splitlines`` also splits
    at characters a comment may hold, such as U+2028)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _hunks(base: list[str], other: list[str]) -> list[_Hunk]:
    """Where ``other`` differs from ``base``; a run of lines replaced one for one as a hunk per
    line, so a change next to a restyled line does not take its neighbours' style away."""
    found: list[_Hunk] = []
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            found += [(i1 + k, i1 + k + 1, [other[j1 + k]]) for k in range(i2 - i1)]
        else:
            found.append((i1, i2, other[j1:j2]))
    return found


def _overlap(one: _Hunk, other: _Hunk) -> bool:
    """Whether two hunks touch the same lines; lines added at a hunk's edge touch none of it."""
    (a1, a2, _), (b1, b2, _) = one, other
    if a1 == a2 and b1 == b2:
        return False
    if a1 == a2:
        return b1 < a1 < b2
    if b1 == b2:
        return a1 < b1 < a2
    return a1 < b2 and b1 < a2


# -- comments --------------------------------------------------------------------------------
# ruamel keeps the text after an entry (its end-of-line comment, then the blank and comment
# lines up to the next entry) in one token on that entry, or, when the entry's value is a block
# section, on the section's last entry. The part up to the first newline belongs to the entry;
# the rest belongs to the position between this entry and the next.


def _is_block(value: Any) -> bool:
    return isinstance(value, CommentedMap | CommentedSeq) and bool(value) and not _is_flow(value)


def _is_flow(value: CommentedMap | CommentedSeq) -> bool:
    return bool(value.fa.flow_style())


def _last_key(collection: CommentedMap | CommentedSeq) -> Any:
    return list(collection)[-1] if isinstance(collection, CommentedMap) else len(collection) - 1


def _slot(container: CommentedMap | CommentedSeq, key: Any) -> tuple[Any, Any, int]:
    """Where the text after ``container[key]`` is kept: (container, key, index in its list)."""
    value = container[key]
    if _is_block(value):
        return _slot(value, _last_key(value))
    return container, key, 2 if isinstance(container, CommentedMap) else 0


def _split_following(container: CommentedMap | CommentedSeq, key: Any) -> str:
    """Cut the lines following ``container[key]`` off it and return them."""
    owner, slot_key, index = _slot(container, key)
    entry = owner.ca.items.get(slot_key)
    token = entry[index] if entry is not None else None
    if not isinstance(token, CommentToken):
        return ""
    text = token.value
    head, newline, rest = text.partition("\n")
    if not newline or not rest:
        return ""
    token.value = head + newline
    return rest


def _append_following(container: CommentedMap | CommentedSeq, key: Any, rest: str) -> None:
    """Put ``rest`` (lines cut off elsewhere) right after ``container[key]``."""
    owner, slot_key, index = _slot(container, key)
    entry = owner.ca.items.setdefault(slot_key, [None, None, None, None])
    token = entry[index]
    if isinstance(token, CommentToken):
        token.value = token.value + rest
    else:
        entry[index] = CommentToken("\n" + rest, CommentMark(0))
