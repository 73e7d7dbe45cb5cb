"""Insert trades idempotently on trade_key, and record big ones in the activity feed."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from opinion_pipeline.validation.trades import TRADE_COLUMNS
from opinion_pipeline.warehouse.schema import MONEY

_MONEY_COLUMNS = {
    "price",
    "shares",
    "amount",
    "fee",
    "profit",
    "quote_token_usd_price",
    "usd_value",
}
_INT_COLUMNS = {"market_id", "root_market_id", "outcome_side", "status", "occurrence"}


@dataclass(frozen=True)
class TradeInsert:
    new: int
    duplicates: int
    activity: int
    unknown_market: int


def _select_expression(column: str) -> str:
    if column in _MONEY_COLUMNS:
        return f"CAST({column} AS {MONEY})"
    if column == "created_at":
        return "to_timestamp(CAST(created_at AS BIGINT))"
    if column in _INT_COLUMNS:
        return f"CAST({column} AS BIGINT)"
    return f"CAST({column} AS VARCHAR)"


def wallet_watermarks(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Newest stored trade per wallet, as Unix seconds: where the next incremental read stops."""
    rows = conn.execute(
        "SELECT wallet, CAST(epoch(max(created_at)) AS BIGINT) FROM trades GROUP BY wallet"
    ).fetchall()
    return {wallet: int(newest) for wallet, newest in rows}


def insert_trades(
    conn: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame,
    *,
    run_id: str | None,
    alert_usd: float,
) -> TradeInsert:
    """Insert the trades not stored yet; those worth ``alert_usd`` or more join the feed.

    The caller holds the warehouse lock, so the anti-join below sees every committed trade and
    no other writer; the primary key still guards against a duplicate.
    """
    if rows.empty:
        return TradeInsert(new=0, duplicates=0, activity=0, unknown_market=0)
    conn.register("trade_batch", rows[TRADE_COLUMNS])
    try:
        selected = ", ".join(
            f"{_select_expression(column)} AS {column}" for column in TRADE_COLUMNS
        )
        conn.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE new_trades AS
            SELECT {selected},
                   CAST(market_id AS BIGINT) IN (SELECT market_id FROM markets) AS market_known
            FROM trade_batch b
            WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.trade_key = b.trade_key)
            """
        )
    finally:
        conn.unregister("trade_batch")
    conn.execute(
        f"""
        INSERT INTO trades ({", ".join(TRADE_COLUMNS)}, market_known, ingested_at, run_id)
        SELECT *, now(), ? FROM new_trades
        ON CONFLICT (trade_key) DO NOTHING
        """,
        [run_id],
    )
    new, unknown = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT market_known) FROM new_trades"
    ).fetchone()  # type: ignore[misc]
    activity = conn.execute(
        """
        INSERT INTO whale_activity
        SELECT n.trade_key, n.wallet, w.label, n.market_id, n.market_title, n.side, n.outcome,
               n.usd_value, n.created_at, now(), ?
        FROM new_trades n LEFT JOIN whales w ON w.address = n.wallet
        WHERE n.usd_value >= ?
        ON CONFLICT (trade_key) DO NOTHING
        """,
        [run_id, alert_usd],
    ).fetchone()[0]  # type: ignore[index]
    conn.execute("DROP TABLE new_trades")
    return TradeInsert(
        new=int(new),
        duplicates=len(rows) - int(new),
        activity=int(activity),
        unknown_market=int(unknown),
    )
