"""The audit summary's exports told apart (``/audit/summary``); merged into
``integrator.console.i18n``'s catalogue.

Only an export made by BSN holds patient data; a listing's export without a BSN term holds
identifiers only. One figure for both had a privacy officer question the person who took a
messages CSV, so the summary shows them as two columns, each saying which it is."""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    "audit.summary.exports_by_bsn": "Exports by BSN (patient data)",
    "audit.summary.exports_without_bsn": "Other exports (no patient data)",
}

NL: Final[dict[str, str]] = {
    "audit.summary.exports_by_bsn": "Exports op BSN (patiëntgegevens)",
    "audit.summary.exports_without_bsn": "Andere exports (geen patiëntgegevens)",
}
