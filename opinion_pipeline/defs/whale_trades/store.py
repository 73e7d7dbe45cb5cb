"""Insert trades idempotently on trade_key, and record big ones in the activity feed."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from opinion_pipeline.defs.whale_trades.tables import TRADES
from opinion_pipeline.tables import MONEY
from opinion_pipeline.warehouse.ddl import load_select
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse

TRADE_COLUMNS = TRADES.frame_columns


@dataclass(frozen=True)
class TradeInsert:
    new: int
    duplicates: int
    activity: int
    unknown_market: int


def wallet_watermarks(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Newest stored trade per wallet, as Unix seconds: where the next incremental read stops.

    Archived trades count: a whale whose trades are all archived is not a new whale.
    """
    rows = conn.execute(
        """
        SELECT wallet, CAST(epoch(max(created_at)) AS BIGINT)
        FROM (SELECT wallet, created_at FROM trades
              UNION ALL SELECT wallet, created_at FROM archived_trades)
        GROUP BY wallet
        """
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

    This function is what keeps ``trade_key`` unique (``trades`` has no PRIMARY KEY index, see
    schema.py): the caller holds the warehouse lock, so the key check below sees every
    committed trade and no other writer can add one before the insert. The
    ``trade_keys_unique`` asset check verifies it after every sync.

    Why in two steps (BENCHMARKS.md): most syncs re-read trades already stored (every whale's
    first page), so the keys alone are checked first and a batch with nothing new costs one
    key scan; only the new rows are then cast and inserted straight from the frame (no temp
    table), and a key repeated within the batch is dropped beforehand, so the insert needs no
    ON CONFLICT.
    """
    if rows.empty:
        return TradeInsert(new=0, duplicates=0, activity=0, unknown_market=0)
    fresh = _not_stored(conn, rows)
    if fresh.empty:
        return TradeInsert(new=0, duplicates=len(rows), activity=0, unknown_market=0)
    selected = load_select(TRADES)
    conn.register("trade_batch", fresh)
    try:
        unknown = conn.execute(
            "SELECT count(*) FROM trade_batch "
            "WHERE CAST(market_id AS BIGINT) NOT IN (SELECT market_id FROM markets)"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            f"""
            INSERT INTO trades ({", ".join(TRADE_COLUMNS)}, market_known, ingested_at, run_id)
            SELECT {selected},
                   CAST(market_id AS BIGINT) IN (SELECT market_id FROM markets), now(), ?
            FROM trade_batch
            """,
            [run_id],
        )
        activity = conn.execute(
            f"""
            INSERT INTO whale_activity
            SELECT CAST(b.trade_key AS VARCHAR), CAST(b.wallet AS VARCHAR), w.label,
                   CAST(b.market_id AS BIGINT), CAST(b.market_title AS VARCHAR),
                   CAST(b.side AS VARCHAR), CAST(b.outcome AS VARCHAR),
                   CAST(b.usd_value AS {MONEY}), to_timestamp(CAST(b.created_at AS BIGINT)),
                   now(), ?
            FROM trade_batch b LEFT JOIN whales w ON w.address = b.wallet
            WHERE CAST(b.usd_value AS {MONEY}) >= ?
            ON CONFLICT (trade_key) DO NOTHING
            """,
            [run_id, alert_usd],
        ).fetchone()[0]  # type: ignore[index]
    finally:
        conn.unregister("trade_batch")
    return TradeInsert(
        new=len(fresh),
        duplicates=len(rows) - len(fresh),
        activity=int(activity),
        unknown_market=int(unknown),
    )


LATEST_ACTIVITY_SHOWN = 10


@dataclass(frozen=True)
class AfterSync:
    """What the whale_trades asset reports after a sync, read in one warehouse visit."""

    trades: int
    activity: int
    repeated_keys: list[tuple[str, int]]
    latest_activity: list[tuple]


def after_sync_summary(warehouse: DuckDBWarehouse, run_id: str) -> AfterSync:
    with warehouse.connection() as conn:
        trades = conn.execute("SELECT count(*) FROM trades").fetchone()[0]  # type: ignore[index]
        activity = conn.execute("SELECT count(*) FROM whale_activity").fetchone()[0]  # type: ignore[index]
        latest = conn.execute(
            """
            SELECT created_at, label, wallet, side, outcome, round(usd_value, 2), market_title
            FROM whale_activity ORDER BY created_at DESC, trade_key LIMIT ?
            """,
            [LATEST_ACTIVITY_SHOWN],
        ).fetchall()
        return AfterSync(int(trades), int(activity), repeated_trade_keys(conn, run_id), latest)


def repeated_trade_keys(conn: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, int]]:
    """Keys written by run ``run_id`` that ``trades`` holds more than once, with their counts.

    Reads only the rows sharing a key with that run's rows, so it costs one scan of the
    run_id and trade_key columns, not a full-table aggregate.
    """
    return conn.execute(
        """
        SELECT trade_key, count(*) FROM trades
        WHERE trade_key IN (SELECT trade_key FROM trades WHERE run_id = ?)
        GROUP BY trade_key HAVING count(*) > 1
        ORDER BY trade_key
        """,
        [run_id],
    ).fetchall()


def _not_stored(conn: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows (TRADE_COLUMNS) whose trade_key is not stored, first of any repeated key.

    Only positions travel back from DuckDB (no strings), and repeats are looked for among the
    new rows only, so a batch of trades already stored costs one anti-join on the key.
    """
    candidates = pd.DataFrame(
        {"trade_key": rows["trade_key"].to_numpy(), "position": np.arange(len(rows))}
    )
    conn.register("batch_keys", candidates)
    try:
        positions = conn.execute(
            "SELECT position FROM batch_keys ANTI JOIN trades USING (trade_key) "
            "ANTI JOIN archived_trades USING (trade_key)"  # archived: stored once already
        ).fetchnumpy()["position"]
    finally:
        conn.unregister("batch_keys")
    fresh = rows[TRADE_COLUMNS]
    if len(positions) < len(rows):
        fresh = fresh.iloc[np.sort(np.asarray(positions))]
    repeated = fresh["trade_key"].duplicated(keep="first").to_numpy()
    return fresh[~repeated] if repeated.any() else fresh
