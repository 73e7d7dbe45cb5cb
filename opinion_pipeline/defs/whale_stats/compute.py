"""Per-whale statistics, recomputed in full from the validated trades table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

_STATS_SQL = """
INSERT INTO whale_stats
SELECT
    w.address,
    w.label,
    coalesce(sum(t.usd_value), 0),
    coalesce(sum(t.usd_value) FILTER (WHERE t.created_at >= $as_of - INTERVAL 24 HOUR), 0),
    coalesce(sum(t.usd_value) FILTER (WHERE t.created_at >= $as_of - INTERVAL 7 DAY), 0),
    coalesce(sum(t.usd_value) FILTER (WHERE t.created_at >= $as_of - INTERVAL 30 DAY), 0),
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


def recompute_whale_stats(warehouse: DuckDBWarehouse, as_of: datetime, *, top: int) -> StatsRun:
    """Recompute every whale's statistics in one transaction; the top whales by volume."""
    with warehouse.transaction() as conn:
        whales = replace_whale_stats(conn, as_of)
        best = top_whales(conn, top)
        trades = conn.execute("SELECT count(*) FROM trades").fetchone()[0]  # type: ignore[index]
    return StatsRun(whales=whales, trades_counted=int(trades), top=best)


def replace_whale_stats(conn: duckdb.DuckDBPyConnection, as_of: datetime) -> int:
    """Replace whale_stats with figures as of ``as_of`` (caller wraps this in a transaction)."""
    conn.execute("DELETE FROM whale_stats")
    conn.execute(_STATS_SQL, {"as_of": as_of})
    return int(conn.execute("SELECT count(*) FROM whale_stats").fetchone()[0])  # type: ignore[index]


def top_whales(conn: duckdb.DuckDBPyConnection, limit: int = 10) -> list[tuple]:
    return conn.execute(
        """
        SELECT label, wallet, total_volume_usd, volume_24h_usd, trade_count, realized_profit_usd,
               last_trade_at
        FROM whale_stats ORDER BY total_volume_usd DESC, wallet LIMIT ?
        """,
        [limit],
    ).fetchall()
