"""Upsert markets on market_id, so status changes (Activated -> Resolved) are kept."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from opinion_pipeline.defs.markets.tables import MARKETS
from opinion_pipeline.warehouse.port import NOW, WarehouseSession


@dataclass(frozen=True)
class MarketUpsert:
    inserted: int
    updated: int
    status_changes: int
    duplicates_in_payload: int


def upsert_markets(session: WarehouseSession, rows: pd.DataFrame) -> MarketUpsert:
    """Insert new markets and update known ones; a market listed twice counts once.

    Trades stored before the sweep saw their market are marked known in the same transaction.
    """
    upsert = session.upsert(
        MARKETS,
        rows,
        on_insert={"first_seen_at": NOW},
        always={"updated_at": NOW},
        changed=("status",),
    )
    session.execute(
        """
        UPDATE trades SET market_known = true
        WHERE NOT market_known AND market_id IN (SELECT market_id FROM markets)
        """
    )
    return MarketUpsert(
        inserted=upsert.inserted,
        updated=upsert.updated,
        status_changes=upsert.changed,
        duplicates_in_payload=len(rows) - upsert.inserted - upsert.updated,
    )
