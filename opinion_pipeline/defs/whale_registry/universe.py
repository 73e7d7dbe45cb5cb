"""The tracked universe: the registry file's pins plus the whales discovery admitted.

Runs in the registry load's own transaction, after the file's pins and excludes are written.
The file always wins: a pin is tracked whatever discovery says, an ``exclude`` line keeps an
address out. Discovery only adds: an admitted candidate becomes a tracked whale (source
leaderboard or holders, with when it was admitted) and gets its full history on its first poll;
a tracked discovered whale the gate no longer admits (no source showed it for
OPINION_DISCOVERY_DROP_DAYS, no trades seen, or over the cap) is never removed, only marked
``discovery_dropped_at`` and polled as rarely as an inactive whale, until it is admitted again.
A failed or empty discovery run leaves ``whale_candidates`` as it was, so nothing changes here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from opinion_pipeline.defs.whale_candidates.tables import WHALE_CANDIDATES
from opinion_pipeline.defs.whale_registry.tables import REGISTRY_EXCLUSIONS, WHALES
from opinion_pipeline.warehouse.port import NOW, WarehouseSession


@dataclass(frozen=True)
class UniverseMerge:
    discovered_added: int = 0
    discovered_dropped: int = 0
    discovered_restored: int = 0
    discovered_tracked: int = 0


def _admitted(session: WarehouseSession) -> pd.DataFrame:
    """Admitted candidates that are neither pinned in the file nor excluded by it."""
    return session.frame(
        f"""
        SELECT c.address, c.sources, c.rule,
               (SELECT s.user_name FROM candidate_sightings s
                 WHERE s.address = c.address AND s.user_name IS NOT NULL AND s.user_name <> ''
                 ORDER BY s.last_seen_at DESC, s.board LIMIT 1) AS user_name
        FROM {WHALE_CANDIDATES.name} c
        WHERE c.admitted
          AND c.address NOT IN (SELECT address FROM {REGISTRY_EXCLUSIONS.name})
          AND c.address NOT IN (
                SELECT address FROM {WHALES.name} WHERE source = 'registry' AND in_registry)
        ORDER BY c.priority, c.address
        """
    )


def merge_discovered(session: WarehouseSession) -> UniverseMerge:
    admitted = _admitted(session)
    added = 0
    if len(admitted):
        source = [
            "leaderboard" if "leaderboard" in list(s) else "holders" for s in admitted["sources"]
        ]
        labels = [
            name if isinstance(name, str) and name else f"discovered ({kind})"
            for name, kind in zip(admitted["user_name"], source, strict=True)
        ]
        frame = pd.DataFrame(
            {
                "address": admitted["address"],
                "label": labels,
                "tags": [[kind, "discovered"] for kind in source],
                "source": source,
            }
        )
        known = {a for (a,) in session.query(f"SELECT address FROM {WHALES.name}")}
        new = frame[~frame["address"].isin(known)]
        if len(new):
            added = session.upsert(
                WHALES,
                new,
                on_insert={"first_listed_at": NOW, "admitted_at": NOW},
                always={"in_registry": True, "last_listed_at": NOW},
            ).inserted
    restored = session.execute(
        f"""
        UPDATE {WHALES.name} SET discovery_dropped_at = NULL, in_registry = true,
               last_listed_at = now()
        WHERE source <> 'registry' AND address IN (SELECT unnest($admitted))
          AND (discovery_dropped_at IS NOT NULL OR NOT in_registry)
        """,
        {"admitted": list(admitted["address"])},
    )
    dropped = session.execute(
        f"""
        UPDATE {WHALES.name} SET discovery_dropped_at = now()
        WHERE source <> 'registry' AND in_registry AND discovery_dropped_at IS NULL
          AND address IN (SELECT address FROM {WHALE_CANDIDATES.name} WHERE NOT admitted)
        """,
    )
    tracked = session.query(
        f"SELECT count(*) FROM {WHALES.name} WHERE source <> 'registry' AND in_registry"
    )[0][0]
    return UniverseMerge(
        discovered_added=added,
        discovered_dropped=dropped,
        discovered_restored=restored,
        discovered_tracked=int(tracked),
    )
