"""Upsert markets on market_id, so status changes (Activated -> Resolved) are kept."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from opinion_pipeline.defs.markets.tables import MARKETS
from opinion_pipeline.warehouse.ddl import load_select

MARKET_COLUMNS = MARKETS.frame_columns


@dataclass(frozen=True)
class MarketUpsert:
    inserted: int
    updated: int
    status_changes: int
    duplicates_in_payload: int


def upsert_markets(conn: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> MarketUpsert:
    """Insert new markets and update known ones; a market listed twice counts once."""
    unique = rows.drop_duplicates(subset="market_id", keep="first")
    conn.register("market_batch", unique)
    try:
        existing, changed = conn.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE m.status <> CAST(b.status AS SMALLINT))
            FROM market_batch b JOIN markets m ON m.market_id = CAST(b.market_id AS BIGINT)
            """
        ).fetchone()  # type: ignore[misc]
        selected = load_select(MARKETS)
        updates = ", ".join(f"{column} = excluded.{column}" for column in MARKET_COLUMNS[1:])
        conn.execute(
            f"""
            INSERT INTO markets ({", ".join(MARKET_COLUMNS)}, first_seen_at, updated_at)
            SELECT {selected}, now(), now() FROM market_batch
            ON CONFLICT (market_id) DO UPDATE SET {updates}, updated_at = excluded.updated_at
            """
        )
        conn.execute(
            """
            UPDATE trades SET market_known = true
            WHERE NOT market_known AND market_id IN (SELECT market_id FROM markets)
            """
        )
    finally:
        conn.unregister("market_batch")
    return MarketUpsert(
        inserted=len(unique) - existing,
        updated=existing,
        status_changes=changed,
        duplicates_in_payload=len(rows) - len(unique),
    )


def count_markets(conn: duckdb.DuckDBPyConnection) -> int:
    return int(conn.execute("SELECT count(*) FROM markets").fetchone()[0])  # type: ignore[index]


def market_status_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT coalesce(status_enum, CAST(status AS VARCHAR)), count(*) FROM markets GROUP BY 1"
    ).fetchall()
    return {str(status): int(count) for status, count in rows}
