"""Whale status upkeep: quiet whales become inactive (polled less often), active again on a trade.

The sync reactivates a whale as soon as it stores a recent trade; this daily pass applies the
same rule as well, so the status is right even for trades stored by any other path.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from opinion_pipeline.defs.whale_registry.store import (
    mark_inactive_whales,
    reactivate_whales_with_recent_trades,
)

NEWLY_INACTIVE_SHOWN = 20


@dataclass(frozen=True)
class StatusUpdate:
    marked_inactive: int
    reactivated: int
    active: int
    inactive: int
    newly_inactive: list[tuple[str, str, object]]  # (label, address, last trade) shown in the UI


def update_whale_status(conn: duckdb.DuckDBPyConnection, after_days: int) -> StatusUpdate:
    """Reactivate, then mark; call inside one transaction. Counts are of listed whales."""
    reactivated = reactivate_whales_with_recent_trades(conn, after_days)
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE was_active AS "
        "SELECT address FROM whales WHERE status = 'active'"
    )
    try:
        marked = mark_inactive_whales(conn, after_days)
        newly = conn.execute(
            """
            SELECT w.label, w.address,
                   (SELECT max(created_at) FROM trades t WHERE t.wallet = w.address)
            FROM whales w JOIN was_active a ON a.address = w.address
            WHERE w.status = 'inactive'
            ORDER BY w.address LIMIT ?
            """,
            [NEWLY_INACTIVE_SHOWN],
        ).fetchall()
    finally:
        conn.execute("DROP TABLE IF EXISTS was_active")
    active, inactive = conn.execute(
        """
        SELECT count(*) FILTER (WHERE status = 'active'),
               count(*) FILTER (WHERE status = 'inactive')
        FROM whales WHERE in_registry
        """
    ).fetchone()  # type: ignore[misc]
    return StatusUpdate(
        marked_inactive=marked,
        reactivated=reactivated,
        active=int(active),
        inactive=int(inactive),
        newly_inactive=[(label, address, last) for label, address, last in newly],
    )
