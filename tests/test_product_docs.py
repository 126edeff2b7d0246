"""The product contract lives in the project: every reference to it resolves in a user's clone.

``docs/product.md`` is the contract. Code comments and guides cite its sections as
"docs/product.md §N" (or "product.md §N.M"); each cited number must be a heading there. The
contract once lived outside the repository and was cited by other names; none of those may be
left, because a clone cannot follow them. And every relative link in the markdown pages must
point at a file that exists (and, with a ``#fragment``, at a heading of that file).
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ROOT / "docs" / "product.md"
THIS_FILE = Path(__file__).resolve()

TEXT_SUFFIXES = frozenset({".md", ".py", ".yaml", ".yml", ".toml", ".json", ".txt", ".cfg", ".ini"})
TEXT_NAMES = frozenset({"Makefile", "Dockerfile"})
SKIPPED_DIRS = frozenset(
    {".git", ".venv", "venv", "build", "dist", "node_modules", "__pycache__", ".mypy_cache"}
    | {".ruff_cache", ".pytest_cache", ".hypothesis"}
)

# "docs/product.md §5.1", "product.md §4", "docs/product.md §3-4" (cites §3).
SECTION_REF = re.compile(r"product\.md\s*§\s*(\d+(?:\.\d+)?)")
# "## 5. Delivery and acknowledgements", "### 5.1 Destination file".
SECTION_HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)?)\.?\s")
# The names the contract had outside the repository: "SPEC §5.1", "SPEC.md", "where SPEC is
# silent", "the product card". SPEC in upper case as a whole word only, so HL7 words such as
# SPECIMEN never match and "spec" stays an ordinary word.
OLD_NAME = re.compile(r"\bSPEC\b")
PRODUCT_CARD = re.compile(r"product\s+card", re.IGNORECASE)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def _is_text(path: Path) -> bool:
    return path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES


def _skipped(relative: Path) -> bool:
    return any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts)


@functools.cache
def _project_files() -> tuple[Path, ...]:
    """Tracked files plus new ones not ignored; without git, every file outside skipped dirs."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        candidates = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        candidates = [p for p in ROOT.rglob("*") if p.is_file()]
    files = {
        p for p in candidates if p.is_file() and _is_text(p) and not _skipped(p.relative_to(ROOT))
    }
    return tuple(sorted(files))


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return
    yield from enumerate(text.splitlines(), start=1)


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT).as_posix()}:{line}"


def _headings(path: Path) -> list[str]:
    """The headings of a markdown file, outside code fences."""
    found: list[str] = []
    in_fence = False
    for _, line in _lines(path):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            found.append(line)
    return found


def _section_numbers() -> set[str]:
    numbers: set[str] = set()
    for heading in _headings(PRODUCT):
        match = SECTION_HEADING.match(heading)
        if match:
            numbers.add(match.group(1))
    return numbers


def _anchor(heading: str) -> str:
    """The fragment a markdown renderer (GitHub's rules) gives a heading."""
    text = heading.lstrip("#").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for heading in _headings(path):
        base = _anchor(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchors.add(base if count == 0 else f"{base}-{count}")
    return anchors


def test_the_contract_has_every_section() -> None:
    expected = {str(n) for n in range(1, 11)} | {"4.1", "4.2", "4.3", "4.4", "4.5", "5.1", "5.2"}
    missing = sorted(expected - _section_numbers())
    assert not missing, f"docs/product.md has no heading for section(s) {', '.join(missing)}"


def test_every_section_reference_has_a_heading() -> None:
    sections = _section_numbers()
    broken = [
        f"{_where(path, number)}: §{match.group(1)} is not a heading of docs/product.md"
        for path in _project_files()
        if path != THIS_FILE
        for number, line in _lines(path)
        for match in SECTION_REF.finditer(line)
        if match.group(1) not in sections
    ]
    assert not broken, "\n".join(broken)


def test_no_reference_to_the_contract_outside_the_repository() -> None:
    # This file spells the old names in its patterns, so it is the one file not searched.
    stale = [
        f"{_where(path, number)}: {line.strip()}"
        for path in _project_files()
        if path != THIS_FILE
        for number, line in _lines(path)
        if OLD_NAME.search(line) or PRODUCT_CARD.search(line)
    ]
    assert not stale, (
        "the product contract is docs/product.md (cite it as 'docs/product.md §N'); "
        "these lines still cite it by a name a clone cannot follow:\n" + "\n".join(stale)
    )


def _markdown_pages() -> list[Path]:
    return [p for p in _project_files() if p.suffix == ".md"]


def test_relative_markdown_links_resolve() -> None:
    broken: list[str] = []
    for page in _markdown_pages():
        in_fence = False
        for number, line in _lines(page):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            for match in MARKDOWN_LINK.finditer(line):
                problem = _link_problem(page, match.group(1))
                if problem:
                    broken.append(f"{_where(page, number)}: {match.group(1)}: {problem}")
    assert not broken, "\n".join(broken)


def _link_problem(page: Path, target: str) -> str | None:
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
        return None  # https:, mailto: and the like
    path_part, _, fragment = target.partition("#")
    if path_part.startswith("/"):
        return "an absolute path does not exist in a clone; link relative to the page"
    linked = (page.parent / path_part).resolve() if path_part else page
    if not linked.is_relative_to(ROOT):
        return "points outside the repository"
    if not linked.exists():
        return "no such file"
    if fragment and linked.suffix == ".md" and fragment.lower() not in _anchors(linked):
        return f"no heading for #{fragment} in {linked.relative_to(ROOT).as_posix()}"
    return None
