"""The set-based SQL PnL equals the old row-by-row Decimal path on generated warehouses.

Two generators: the benchmark's (benchmarks/whale_pnl.py, small), and a random one with what
the benchmark lacks: partial sells (the long division), 18-decimal shares and prices, exact
rounding ties, snapshot marks newer than, equal to and after the trades, unknown and
unresolved markets, a whale out of the registry, and positions outside the SQL's exact domain
(left to Python).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal, localcontext
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.whale_pnl import build as build_benchmark_warehouse
from opinion_pipeline.defs.whale_pnl.compute import recompute_pnl
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.defs.whale_pnl.python_reference import (
    reference_positions,
    reference_roi,
)

pytestmark = pytest.mark.unit

AS_OF = datetime(2026, 6, 1, tzinfo=timezone.utc)

_POSITION_COLUMNS = """
SELECT wallet, market_id, outcome_side, cost_basis, mark_price, mark_at, mark_source,
       realized_pnl, unrealized_pnl, net_pnl, resolved, decided, won, payout, shares_held
FROM whale_position_pnl
"""


def _amount(rng: random.Random) -> Decimal:
    """A positive decimal of 0 to 18 places over a wide range of sizes."""
    places = rng.choice([0, 2, 6, 18, 18])
    whole = rng.choice([0, 1, 7, 250, 10_000, 3_000_000])
    return Decimal(whole) + Decimal(rng.randrange(1, 10**18)).scaleb(-18).quantize(
        Decimal(1).scaleb(-places) if places else Decimal(1)
    ) or Decimal(1)


def _price(rng: random.Random) -> Decimal:
    return rng.choice(
        [Decimal(rng.randrange(0, 10**18 + 1)).scaleb(-18), Decimal("0.5"), Decimal(1)]
    )


def _trade(wallet, market, side, kind, shares, amount, fee, price, at, n) -> dict:
    return {
        "trade_key": f"k{n}", "wallet": wallet, "market_id": market, "outcome_side": side,
        "side": kind, "shares": str(shares), "amount": str(amount), "fee": str(fee),
        "price": str(price), "created_at": at,
    }  # fmt: skip


def _random_rows(seed: int) -> tuple[list[dict], list[dict], list[tuple]]:
    """Trades, snapshots, markets (id, status, result side or None) of a random warehouse."""
    rng = random.Random(seed)
    wallets = [f"0x{n:040x}" for n in range(1, 13)]  # the last one is not in the registry
    markets = [(m, rng.choice([2, 2, 4, 4, 4, 3]), rng.choice([1, 2, None])) for m in range(1, 31)]
    trades, snapshots = [], []
    for position in range(900):
        wallet, market, side = rng.choice(wallets), rng.randrange(1, 35), rng.choice([1, 2])
        for _ in range(rng.randrange(1, 5)):
            kind = rng.choice(["BUY", "BUY", "SPLIT", "SELL", "MERGE"])
            at = AS_OF - timedelta(seconds=rng.randrange(-3600, 86400 * 30))
            shares = _amount(rng)
            trades.append(
                _trade(wallet, market, side, kind, shares, _amount(rng), _amount(rng) / 100,
                       _price(rng), at, len(trades))
            )  # fmt: skip
        if position % 2 == 0:  # newer than most trades, at a trade's time, or after as_of
            at = rng.choice(
                [AS_OF - timedelta(seconds=rng.randrange(0, 7200), microseconds=123), at,
                 AS_OF + timedelta(minutes=5)]
            )  # fmt: skip
            snapshots.append(
                {"wallet": wallet, "market_id": market, "outcome_side": side, "snapshot_at": at,
                 "mark_price": str(_price(rng))}
            )  # fmt: skip
    # Planted: ties at the 19th place, a negative one included (half away from zero).
    for n, (held, cost, mark) in enumerate(
        [("1.000000000000000001", "5", "0.5"), ("3.000000000000000001", "1", "0.5"),
         ("0.000000000000000001", "0", "0.5"), ("2.000000000000000003", "7", "0.5"),
         ("1.000000000000000001", "0.500000000000000001", "0.5")]
    ):  # fmt: skip
        at = AS_OF - timedelta(days=1)
        trades.append(_trade(wallets[n], 100 + n, 1, "BUY", held, cost, 0, mark, at, len(trades)))
    # Planted: a partial sell with a tie in the basis (held x cost / bought = 2.5 quanta).
    trades.append(_trade(wallets[0], 110, 1, "BUY", "2", "0.000000000000000005", 0, "0.4",
                         AS_OF - timedelta(days=2), len(trades)))  # fmt: skip
    trades.append(_trade(wallets[0], 110, 1, "SELL", "1", "0.5", 0, "0.4",
                         AS_OF - timedelta(days=1), len(trades)))  # fmt: skip
    # Planted: outside the SQL's exact domain (shares bought, a mark of 100 or more).
    trades.append(_trade(wallets[1], 120, 1, "BUY", "90000000000.5", "1000.25", "1", "0.3",
                         AS_OF - timedelta(days=1), len(trades)))  # fmt: skip
    trades.append(_trade(wallets[1], 121, 2, "BUY", "3.5", "2", "0", "150.123",
                         AS_OF - timedelta(days=1), len(trades)))  # fmt: skip
    # Planted: newest-price ties. Two trades at one instant (the higher price marks), a trade
    # and a snapshot at one instant (the snapshot marks), each after an older, higher price.
    tie_at = AS_OF - timedelta(hours=3)
    for market, price in [(130, "0.9"), (130, "0.3"), (130, "0.7"), (131, "0.95"), (131, "0.6")]:
        at = AS_OF - timedelta(days=3) if price.startswith("0.9") else tie_at
        trades.append(_trade(wallets[2], market, 1, "BUY", "4", "2", "0", price, at, len(trades)))
    snapshots.append({"wallet": wallets[2], "market_id": 131, "outcome_side": 1,
                      "snapshot_at": tie_at, "mark_price": "0.2"})  # fmt: skip
    return trades, snapshots, markets


def _random_warehouse(path: Path, seed: int) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path=str(path))
    trades, snapshots, markets = _random_rows(seed)
    with warehouse.transaction() as conn:
        wallets = sorted({t["wallet"] for t in trades})
        for n, wallet in enumerate(wallets):
            conn.execute(
                "INSERT INTO whales (address, label, tags, in_registry, first_listed_at, "
                "last_listed_at) VALUES (?, ?, [], ?, now(), now())",
                [wallet, f"w{n}", wallet != f"0x{12:040x}"],
            )
        for market, status, result in markets:
            token = {1: f"y{market}", 2: f"n{market}", None: ""}[result]
            conn.execute(
                "INSERT INTO markets (market_id, market_type, title, status, yes_token_id, "
                "no_token_id, result_token_id, first_seen_at, updated_at) "
                "VALUES (?, 0, 'm', ?, ?, ?, ?, now(), now())",
                [market, status, f"y{market}", f"n{market}", token],
            )
        trade_frame = pd.DataFrame(trades)  # noqa: F841 (read by DuckDB below)
        conn.execute(
            """
            INSERT INTO trades BY NAME
            SELECT trade_key, wallet, 'tx' || trade_key AS tx_hash, market_id,
                   'market ' || market_id AS market_title, side, outcome_side,
                   CAST(price AS DECIMAL(38,18)) AS price,
                   CAST(shares AS DECIMAL(38,18)) AS shares,
                   CAST(amount AS DECIMAL(38,18)) AS amount, CAST(fee AS DECIMAL(38,18)) AS fee,
                   'usdt' AS quote_token, 1 AS quote_token_usd_price,
                   CAST(amount AS DECIMAL(38,18)) AS usd_value, created_at, 0 AS occurrence,
                   true AS market_known, now() AS ingested_at
            FROM trade_frame
            """
        )
        snapshot_frame = pd.DataFrame(snapshots)  # noqa: F841
        conn.execute(
            """
            INSERT INTO whale_positions BY NAME
            SELECT 'p' || row_number() OVER () AS position_key, wallet, market_id, outcome_side,
                   snapshot_at, 2 AS market_status, 1 AS shares_owned, 't' AS token_id,
                   CAST(mark_price AS DECIMAL(38,18)) AS current_value,
                   CAST(mark_price AS DECIMAL(38,18)) AS mark_price, 0 AS claim_status
            FROM snapshot_frame
            """
        )
    return warehouse


def _assert_sql_equals_python(warehouse: DuckDBWarehouse) -> dict[str, int]:
    run = recompute_pnl(warehouse, AS_OF)
    with warehouse.connection() as conn:
        want = reference_positions(conn, AS_OF)
        got = {row[:3]: row[3:] for row in conn.execute(_POSITION_COLUMNS).fetchall()}
        whales = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT wallet, realized_pnl, unrealized_pnl, net_pnl, capital_deployed, roi, "
                "positions, open_positions, decided_positions, won_positions FROM whale_pnl"
            ).fetchall()
        }
        costs = dict(
            conn.execute("SELECT wallet, sum(cost) FROM whale_position_pnl GROUP BY 1").fetchall()
        )
    assert set(got) == set(want)
    differing = {key: (got[key], want[key]) for key in want if got[key] != want[key]}
    assert not differing, list(differing.items())[:5]
    for wallet, (realized, unrealized, net, capital, roi, positions, *_) in whales.items():
        mine = [v for k, v in want.items() if k[0] == wallet]
        with localcontext() as context:
            context.prec = 100
            assert realized == sum((v[4] for v in mine), Decimal(0))
            assert unrealized == sum((v[5] or Decimal(0) for v in mine), Decimal(0))
            assert net == realized + unrealized
        assert capital == costs.get(wallet, Decimal(0))
        assert roi == reference_roi(net, capital)
        assert positions == len(mine)
    return {"open": run.open_positions, "in_python": run.in_python}


def test_the_benchmark_warehouse_gives_the_same_figures(tmp_path: Path) -> None:
    path = tmp_path / "bench.duckdb"
    build_benchmark_warehouse(path, 4000, 15)
    figures = _assert_sql_equals_python(DuckDBWarehouse(path=str(path)))
    assert figures["open"] > 100


def test_the_realistic_benchmark_warehouse_gives_the_same_figures(tmp_path: Path) -> None:
    path = tmp_path / "bench.duckdb"
    build_benchmark_warehouse(path, 6000, 15, "realistic")
    warehouse = DuckDBWarehouse(path=str(path))
    _assert_sql_equals_python(warehouse)
    with warehouse.connection() as conn:
        partly_sold, decided, won, closed = conn.execute(
            "SELECT count(*) FILTER (WHERE NOT resolved AND shares_held > 0 AND shares_sold > 0), "
            "count(*) FILTER (WHERE decided), count(*) FILTER (WHERE won), "
            "count(*) FILTER (WHERE shares_held = 0) FROM whale_position_pnl"
        ).fetchone()
    assert partly_sold > 50 and closed > 50  # the long division runs; some positions closed
    assert 0 < won < decided  # winners and losers held to resolution


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_warehouse_gives_the_same_figures(tmp_path: Path, seed: int) -> None:
    warehouse = _random_warehouse(tmp_path / "random.duckdb", seed)
    figures = _assert_sql_equals_python(warehouse)
    assert figures["in_python"] == 2  # the two planted rows outside the exact domain
    with warehouse.connection() as conn:
        partial, snapshot_marks = conn.execute(
            "SELECT count(*) FILTER (WHERE shares_sold > 0), "
            "count(*) FILTER (WHERE mark_source = 'snapshot') FROM whale_position_pnl "
            "WHERE NOT resolved AND shares_held > 0"
        ).fetchone()
        ties = conn.execute(
            "SELECT unrealized_pnl FROM whale_position_pnl WHERE market_id BETWEEN 100 AND 104 "
            "ORDER BY market_id"
        ).fetchall()
        basis = conn.execute(
            "SELECT cost_basis FROM whale_position_pnl WHERE market_id = 110"
        ).fetchone()
    assert partial > 20 and snapshot_marks > 20
    # held x 0.5 ends in ...05 at the 19th place: rounded away from zero on either sign
    assert [value for (value,) in ties] == [
        Decimal("-4.500000000000000000"), Decimal("0.500000000000000001"),
        Decimal("0.000000000000000001"), Decimal("-5.999999999999999999"),
        Decimal("-0.000000000000000001"),
    ]  # fmt: skip
    assert basis == (Decimal("0.000000000000000002"),)  # 2.5 quanta, half-even
    with warehouse.connection() as conn:
        marks = conn.execute(
            "SELECT market_id, mark_price, mark_source FROM whale_position_pnl "
            "WHERE market_id IN (130, 131) ORDER BY market_id"
        ).fetchall()
    assert marks == [(130, Decimal("0.7"), "trade"), (131, Decimal("0.2"), "snapshot")]
