"""Which destinations' files count as refused on the scrape, their TLS files looked at now.

The catalog judges the TLS files a destination names (``tls.cert_file``, ``key_file``,
``ca_file``) when the destinations directory is read: at the start, when a file there changes,
at a SIGHUP. Nothing reads it when only a certificate or a key changes, so a file deleted or
made unreadable left ``integrator_destination_file_refused`` at 0 while every attempt failed,
and one put back left it at 1 until a SIGHUP: the alert fired minutes after all was well. So
the gauge (``Metrics.observe_catalog``, at each scrape) asks :meth:`TlsRefusals.refused`:

- a destination in service whose TLS files are missing, unreadable or do not load (what a read
  of the directory would refuse its file for) counts as refused now;
- a destination the last read refused for its TLS files alone, whose file says just the
  definition in service (it runs on its last good revision, which is that file's text), counts
  as refused only while those files still fail. A file whose edit is not in force (it says
  anything else, or names other files) stays refused, whatever its files do now: the edit
  applies at the next read of the directory.

A scrape reads a file only when it changed: the TLS files are judged as the TLS file watch
judges them for the log (``tls_watch.TlsFileChecks``: what loading them gave kept with their
stamps, whether each may be read asked every time, as a ``chmod`` changes no stamp), and a
destination's own file's comparison is kept with its stamp (``tls_files.file_stamp``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from destinations.config import (
    DestinationConfig,
    DestinationFileError,
    TlsSettings,
    definition_of,
    destination_from_yaml,
)
from destinations.tls_files import FileStamp, file_stamp
from integrator.catalog import Broken, Catalog
from integrator.tls_watch import TlsFileChecks

TLS_KEYS: Final = frozenset({"tls.ca_file", "tls.cert_file", "tls.key_file"})
"""The keys of a file refused for its TLS files alone."""


class TlsRefusals:
    """What the files were found to be, each with the stamps it was found at; one per owner
    of a gauge, kept as long as it runs."""

    def __init__(self) -> None:
        self._checks = TlsFileChecks()
        self._says: dict[str, tuple[FileStamp, DestinationConfig, bool]] = {}

    def refused(self, catalog: Catalog) -> list[str]:
        """The ids whose own file counts as refused now (module docstring), sorted."""
        refused = {
            dest_id
            for dest_id, broken in catalog.broken.items()
            if dest_id not in catalog.destinations
            or not self._tls_alone(broken, catalog.destinations[dest_id])
        }
        refused.update(
            dest_id
            for dest_id, config in catalog.destinations.items()
            if not self.files_load(config.tls)
        )
        # What the catalog no longer names goes (a renamed file, a removed destination).
        files = {broken.file for broken in catalog.broken.values()}
        self._says = {file: said for file, said in self._says.items() if file in files}
        self._checks.keep_only(catalog)
        return sorted(refused)

    def files_load(self, tls: TlsSettings | None) -> bool:
        """Whether the files ``tls`` names are there, readable, and load as what they are
        named for, as the TLS file watch finds them (``tls_watch.TlsFileChecks``: loaded again
        only when a stamp changed)."""
        return not self._checks.problems(tls)

    def _tls_alone(self, broken: Broken, in_service: DestinationConfig) -> bool:
        """Whether ``broken``'s file is refused for its TLS files only, and says the very
        definition in service."""
        if not all(problem.key in TLS_KEYS for problem in broken.problems):
            return False
        stamp = file_stamp(Path(broken.file))
        if stamp is None:
            return False
        known = self._says.get(broken.file)
        if known is not None and known[0] == stamp and known[1] is in_service:
            return known[2]
        says = _says(Path(broken.file), in_service)
        self._says[broken.file] = (stamp, in_service, says)
        return says


def _says(file: Path, in_service: DestinationConfig) -> bool:
    """Whether ``file``, its TLS files not looked at, is the definition ``in_service``."""
    try:
        text = file.read_text(encoding="utf-8")
        written = destination_from_yaml(text, source=str(file), check_files=False, recorded=False)
    except (OSError, UnicodeDecodeError, DestinationFileError):
        return False
    return definition_of(written) == definition_of(in_service)
