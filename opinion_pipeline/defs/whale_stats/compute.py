"""Per-whale statistics, recomputed in full from the validated trades table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opinion_pipeline.defs.whale_stats.tables import WHALE_STATS
from opinion_pipeline.warehouse.port import Warehouse, WarehouseSession

_STATS_SQL = """
INSERT INTO whale_stats
SELECT
    w.address,
    w.label,
    coalesce(sum(t.usd_value), 0),
    coalesce(sum(t.usd_value) FILTER (WHERE t.created_at >= $as_of - INTERVAL '24 hours'), 0),
    coalesce(sum(t.usd_value) FILTER (WHERE t.created_at >= $as_of - INTERVAL '7 days'), 0),
    coalesce(sum(t.usd_value) FILTER (WHERE t.created_at >= $as_of - INTERVAL '30 days'), 0),
    count(t.trade_key),
    count(t.trade_key) FILTER (WHERE t.side = 'BUY'),
    count(t.trade_key) FILTER (WHERE t.side = 'SELL'),
    count(DISTINCT t.market_id),
    coalesce(sum(t.profit) FILTER (WHERE t.side IN ('SELL', 'MERGE')), 0),
    min(t.created_at),
    max(t.created_at),
    max(t.usd_value),
    $as_of
FROM whales w
LEFT JOIN trades t ON t.wallet = w.address AND t.created_at <= $as_of
GROUP BY w.address, w.label
"""


@dataclass(frozen=True)
class StatsRun:
    whales: int
    trades_counted: int
    top: list[tuple]  # (label, wallet, total, 24 h, trades, realized profit, last trade)


def recompute_whale_stats(warehouse: Warehouse, as_of: datetime, *, top: int) -> StatsRun:
    """Recompute every whale's statistics in one transaction; the top whales by volume."""
    with warehouse.session() as session:
        whales = replace_whale_stats(session, as_of)
        best = top_whales(session, top)
        trades = session.count("trades")
    return StatsRun(whales=whales, trades_counted=trades, top=best)


def replace_whale_stats(session: WarehouseSession, as_of: datetime) -> int:
    """Replace whale_stats with figures as of ``as_of`` (in the caller's transaction)."""
    session.execute("DELETE FROM whale_stats")
    session.execute(_STATS_SQL, {"as_of": as_of})
    return session.count(WHALE_STATS)


def top_whales(session: WarehouseSession, limit: int = 10) -> list[tuple]:
    return session.query(
        """
        SELECT label, wallet, total_volume_usd, volume_24h_usd, trade_count, realized_profit_usd,
               last_trade_at
        FROM whale_stats ORDER BY total_volume_usd DESC, wallet LIMIT $limit
        """,
        {"limit": limit},
    )
