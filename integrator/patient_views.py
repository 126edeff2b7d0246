"""Every view of patient data is audited (docs/product.md §8, docs/access.md).

One message or event in full, or a search by BSN, writes an audit entry ``patient_data.view``
*before* the answer goes out (no record, no view), whichever front door shows it (the API, the
console): who (the authenticated identity), from where (``source``, the client's address, in
the details), what (the message or event id, or the search), and which patient as the BSN's
keyed hash (``Settings.bsn_hash``, the value ``events.bsn_hash`` holds): never the BSN itself.
Whoever reads the audit trail can ask "who looked at this patient" by hashing the BSN with the
same key, without the trail holding a list of BSNs.
"""

from __future__ import annotations

from typing import Any, Final

from integrator.access.permissions import Identity
from integrator.store import Store

PATIENT_DATA_VIEW: Final = "patient_data.view"


async def record_view(
    store: Store,
    identity: Identity,
    target: str,
    *,
    view: str,
    bsn_hash: str | None,
    **details: Any,
) -> None:
    """Audit that ``identity`` saw patient data: ``view`` says which (``message``, ``event``,
    ``messages.search``, ``events.search``), ``target`` the id or the search."""
    await store.add_audit(
        identity.display,
        PATIENT_DATA_VIEW,
        target,
        details={"view": view, "bsn_hash": bsn_hash, **details},
    )


async def record_search(
    store: Store,
    identity: Identity,
    search: str,
    *,
    bsn_hash: str | None,
    found: int,
    source: str | None,
) -> None:
    """Audit a search by BSN (``messages.search``, ``events.search``, ``audit.search``) with
    how many it found; a search without a BSN shows no patient's data and records nothing."""
    if bsn_hash is None:
        return
    await record_view(
        store, identity, search, view=search, bsn_hash=bsn_hash, found=found, source=source
    )
