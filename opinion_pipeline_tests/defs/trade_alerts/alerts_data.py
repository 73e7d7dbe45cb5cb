"""Planting the rows trade alerts read: whale_activity, position_changes, whale_skill, trades."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse


def wallet(number: int) -> str:
    return f"0x{number:040x}"


def plant_big_trades(
    warehouse: DuckDBWarehouse,
    count: int,
    *,
    usd: float = 25_000.0,
    first: int = 0,
    detected_at: datetime | None = None,
    age: timedelta = timedelta(seconds=30),
) -> list[str]:
    """``count`` whale_activity rows worth ``usd`` each, made ``age`` before they were detected;
    returns their trade keys."""
    detected = detected_at or datetime.now(timezone.utc)
    keys = [f"trade-{first + n:04d}" for n in range(count)]
    with warehouse.connection() as conn:
        for n, key in enumerate(keys):
            conn.execute(
                "INSERT INTO whale_activity (trade_key, wallet, label, market_id, market_title, "
                "side, outcome, usd_value, created_at, detected_at, run_id) "
                "VALUES (?, ?, ?, ?, ?, 'BUY', 'Yes', ?, ?, ?, 'planted')",
                [
                    key,
                    wallet(first + n),
                    f"whale {first + n}",
                    100 + n,
                    f"Market {100 + n}",
                    usd,
                    detected - age,
                    detected,
                ],
            )
    return keys


def plant_position_change(
    warehouse: DuckDBWarehouse, key: str, value_quote: float, number: int = 1
) -> None:
    now = datetime.now(timezone.utc)
    with warehouse.connection() as conn:
        conn.execute(
            "INSERT INTO position_changes (change_key, wallet, market_id, outcome_side, change, "
            "snapshot_at, previous_snapshot_at, shares_before, shares_after, value_quote, "
            "trades_between, market_title, outcome, detected_at, run_id) "
            "VALUES (?, ?, 7, 1, 'increased', ?, ?, 100, 30100, ?, 1, 'Market 7', 'Yes', ?, 'p')",
            [key, wallet(number), now, now - timedelta(minutes=15), value_quote, now],
        )


def plant_skill(warehouse: DuckDBWarehouse, ranks: dict[int, int]) -> None:
    """whale_skill rows: wallet number -> skill rank."""
    with warehouse.connection() as conn:
        for number, rank in ranks.items():
            conn.execute(
                "INSERT INTO whale_skill (wallet, label, decided_positions, won_positions, "
                "win_rate, withheld_reason, shrunk_win_rate, credible_low, credible_high, "
                "skill_rank, prior_alpha, prior_beta, computed_at) "
                "VALUES (?, ?, 40, 30, 0.75, NULL, 0.7, 0.6, 0.8, ?, 2, 2, now())",
                [wallet(number), f"whale {number}", rank],
            )


def plant_buy(
    warehouse: DuckDBWarehouse, key: str, number: int, market_id: int, at: datetime
) -> None:
    """A BUY of outcome side 1 (Yes) in the trades table."""
    with warehouse.connection() as conn:
        conn.execute(
            "INSERT INTO trades (trade_key, wallet, tx_hash, market_id, market_title, side, "
            "outcome, outcome_side, price, shares, amount, quote_token, quote_token_usd_price, "
            "usd_value, created_at, occurrence, market_known, ingested_at) "
            "VALUES (?, ?, ?, ?, ?, 'BUY', 'Yes', 1, 0.5, 100, 50, '0xq', 1, 50, ?, 0, true, ?)",
            [key, wallet(number), f"0xtx{key}", market_id, f"Market {market_id}", at, at],
        )
