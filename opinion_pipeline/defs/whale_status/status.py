"""Whale status upkeep: quiet whales become inactive (polled less often), active again on a trade.

The sync reactivates a whale as soon as it stores a recent trade; this daily pass applies the
same rule as well, so the status is right even for trades stored by any other path.
"""

from __future__ import annotations

from dataclasses import dataclass

from opinion_pipeline.defs.whale_registry.store import (
    mark_inactive_whales,
    reactivate_whales_with_recent_trades,
)
from opinion_pipeline.warehouse.port import WarehouseSession

NEWLY_INACTIVE_SHOWN = 20


@dataclass(frozen=True)
class StatusUpdate:
    marked_inactive: int
    reactivated: int
    active: int
    inactive: int
    newly_inactive: list[tuple[str, str, object]]  # (label, address, last trade) shown in the UI


def update_whale_status(session: WarehouseSession, after_days: int) -> StatusUpdate:
    """Reactivate, then mark; call inside one transaction. Counts are of listed whales."""
    reactivated = reactivate_whales_with_recent_trades(session, after_days)
    active_before = session.query("SELECT address FROM whales WHERE status = 'active'")
    was_active = [address for (address,) in active_before]
    marked = mark_inactive_whales(session, after_days)
    newly = session.query(
        """
        SELECT w.label, w.address,
               (SELECT max(created_at) FROM trades t WHERE t.wallet = w.address)
        FROM whales w
        WHERE w.status = 'inactive' AND w.address IN (SELECT unnest($was_active))
        ORDER BY w.address LIMIT $limit
        """,
        {"was_active": was_active, "limit": NEWLY_INACTIVE_SHOWN},
    )
    ((active, inactive),) = session.query(
        """
        SELECT count(*) FILTER (WHERE status = 'active'),
               count(*) FILTER (WHERE status = 'inactive')
        FROM whales WHERE in_registry
        """
    )
    return StatusUpdate(
        marked_inactive=marked,
        reactivated=reactivated,
        active=int(active),
        inactive=int(inactive),
        newly_inactive=[(label, address, last) for label, address, last in newly],
    )
