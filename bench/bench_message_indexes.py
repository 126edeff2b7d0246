"""CPU of the store's two hot writes on SQLite with some of ``messages``' indexes changed.

    .venv/bin/python bench/bench_message_indexes.py --rounds 7            # the variants below
    .venv/bin/python bench/bench_message_indexes.py --variant "" \\
        --variant "DROP INDEX ix_messages_updated_at"                      # any DDL of your own

Issue 15 asked whether the eleven secondary indexes of ``messages`` could be fewer: every
accepted message adds an entry to each, every attempt's new status rewrites those holding
``status`` or ``updated_at``. Whether a schema change pays is told here before it is made:
a variant is a ';'-separated list of DDL statements run once on a new store (made by
``Store.open``, so the head schema) before its writes; the empty variant is the store as it is.
Each variant runs in its own process, the variants alternating round by round (the order
reversed every other round); each process accepts ``--events`` events of realistic size (a
2.5 KB event and a 2 KB message each, as ``sqlite_settings.py``) in batches of 200, then records
one attempt per message in batches of 5, and prints the CPU per item of the whole process (the
writer thread included). Printed: every run, then each variant's median and the median of its
per-round ratios to the first variant (above 1: the variant is cheaper) with their spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

from alternating import alternated

ROOT = Path(__file__).resolve().parent.parent

# Indexes holding every row that no statement reads whole: the plain control id index beside
# the partial unique one, and the NULL entries of ``resend_of`` (only ``resend_of = x`` and
# ``IN`` are asked, which imply NOT NULL). As partial indexes over resends only (the control
# id search would then need both halves: ``(control_id = x AND resend_of IS NULL) OR
# (control_id = x AND resend_of IS NOT NULL)``).
RESENDS_ONLY = (
    "DROP INDEX ix_messages_resend_of; "
    "CREATE INDEX ix_messages_resend_of ON messages (resend_of) WHERE resend_of IS NOT NULL; "
    "DROP INDEX ix_messages_control_id; "
    "CREATE INDEX ix_messages_control_id ON messages (control_id) WHERE resend_of IS NOT NULL"
)
SECONDARY = (
    "uq_messages_control_id",
    "ix_messages_control_id",
    "ix_messages_event_id",
    "ix_messages_destination_id_status_seq",
    "ix_messages_destination_id_seq",
    "ix_messages_version_seq",
    "ix_messages_status_seq",
    "ix_messages_created_at",
    "ix_messages_resend_of",
    "ix_messages_family_root_status_seq",
    "ix_messages_updated_at",
)
DEFAULT_VARIANTS = [
    "",
    RESENDS_ONLY,
    "DROP INDEX ix_messages_updated_at",
    # The bound, for scale only: no secondary index at all (searches would scan the table).
    "; ".join(f"DROP INDEX {name}" for name in SECONDARY),
]


async def _measure(variant: str, events: int) -> dict[str, float]:
    from breakdown import _timed_writes

    from integrator.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite:///{tmp}/bench.db")
        try:
            async with store._engine.begin() as conn:
                for statement in (s.strip() for s in variant.split(";") if s.strip()):
                    await conn.exec_driver_sql(statement)
            return await _timed_writes(store, events, '{"a": "' + "y" * 2500 + '"}')
        finally:
            await store.close()


def _label(variant: str) -> str:
    if variant == RESENDS_ONLY:
        return "resend_of and plain control_id over resends only"
    if variant == DEFAULT_VARIANTS[-1]:
        return "no secondary index (the bound)"
    return variant or "as it is"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", action="append", default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child is not None:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(asyncio.run(_measure(options.child, options.events))))
        return
    variants: list[str] = options.variant or DEFAULT_VARIANTS
    runs = alternated(
        __file__, variants, rounds=options.rounds, events=options.events, label=_label
    )
    base = runs[variants[0]]
    for key in ("accept_us_per_event", "record_us_per_attempt"):
        for variant in variants:
            values = [r[key] for r in runs[variant]]
            ratios = [b[key] / r[key] for b, r in zip(base, runs[variant], strict=True)]
            print(
                f"{key:24} {_label(variant)[:50]:50} median {statistics.median(values):7.1f} µs"
                f"  better by {statistics.median(ratios):.2f}x"
                f" ({min(ratios):.2f}-{max(ratios):.2f})"
            )


if __name__ == "__main__":
    main()
