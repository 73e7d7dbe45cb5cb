"""Which whales are due a positions snapshot, and writing snapshots through the port."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from opinion_pipeline.defs.whale_positions.tables import POSITION_SNAPSHOTS, WHALE_POSITIONS
from opinion_pipeline.validation import Reject
from opinion_pipeline.warehouse.port import WarehouseSession

# A tick of the 15-minute schedule may start a few seconds early or late: a whale snapshotted
# 14 min 50 s ago is due again, or "every 15 minutes" would silently become every 30.
SLACK = timedelta(seconds=60)


@dataclass(frozen=True)
class DueWhale:
    address: str
    label: str
    active: bool  # traded in the last ``active_days``: the short interval applies


def due_whales(
    session: WarehouseSession,
    now: datetime,
    *,
    active_minutes: int,
    quiet_minutes: int,
    active_days: int,
) -> tuple[list[DueWhale], int]:
    """(whales due a snapshot now, whales listed). Active whales (a trade in the last
    ``active_days``) are due every ``active_minutes``, the rest every ``quiet_minutes``."""
    rows = session.query(
        """
        WITH last_trade AS (SELECT wallet, max(created_at) AS at FROM trades GROUP BY wallet),
             last_snapshot AS (
                 SELECT wallet, max(snapshot_at) AS at FROM position_snapshots GROUP BY wallet)
        SELECT w.address, w.label, coalesce(t.at >= $active_since, false), s.at
        FROM whales w
        LEFT JOIN last_trade t ON t.wallet = w.address
        LEFT JOIN last_snapshot s ON s.wallet = w.address
        WHERE w.in_registry
        ORDER BY w.address
        """,
        {"active_since": now - timedelta(days=active_days)},
    )
    due = []
    for address, label, active, last in rows:
        interval = timedelta(minutes=active_minutes if active else quiet_minutes)
        if last is None or last <= now - interval + SLACK:
            due.append(DueWhale(address=address, label=label, active=bool(active)))
    return due, len(rows)


def write_snapshots(
    session: WarehouseSession,
    positions: pd.DataFrame,
    snapshots: pd.DataFrame,
    rejects: list[tuple[str, Reject]],
    *,
    run_id: str | None,
) -> int:
    """Store a batch of snapshots in the caller's transaction; returns position rows added.

    Idempotent: a position row already stored (same wallet, market, side and snapshot time)
    is skipped, and a snapshot row is written once per (wallet, snapshot time).
    A wallet's rows and its snapshot row are written in the same transaction.
    """
    added = 0
    if not positions.empty:
        added = len(session.insert_new(WHALE_POSITIONS, positions, always={"run_id": run_id}).rows)
    if not snapshots.empty:
        session.insert_new(POSITION_SNAPSHOTS, snapshots, always={"run_id": run_id})
    session.quarantine("position", rejects, run_id=run_id)
    return added


def snapshot_summary(session: WarehouseSession, snapshot_at: datetime) -> list[tuple]:
    """The largest positions of the snapshot just taken, for the asset's metadata."""
    return session.query(
        """
        SELECT p.wallet, w.label, p.market_title, p.outcome, p.shares_owned, p.current_value,
               p.market_status_enum, p.claim_status_enum
        FROM whale_positions p LEFT JOIN whales w ON w.address = p.wallet
        WHERE p.snapshot_at = $at
        ORDER BY p.current_value DESC, p.wallet, p.market_id LIMIT 10
        """,
        {"at": snapshot_at},
    )
