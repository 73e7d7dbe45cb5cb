"""Warehouse writes: `python -m benchmarks.warehouse_writes [--rows 1000000]`.

Upserts N trades through the pipeline's `insert_trades` (a DataFrame shaped like
`prepare_trades` output: object columns, decimals as strings, Unix-second ints), in one
warehouse transaction on a DuckDB file, then the same N again (all skipped). The baseline is a
row-by-row parameterised INSERT ... ON CONFLICT DO NOTHING, measured on a sample (its rate is
constant per row, so it is extrapolated linearly to N; the output says so).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks import common
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession

# Generated in DuckDB (fast); trade_frame gives it the dtypes prepare_trades produces.
FRAME_SQL = """
WITH g AS (
    SELECT i,
           (1 + i % 999) / 1000 AS px,
           -- about 2% of trades are worth $10k or more (whale_activity), as in the simulator
           (CASE WHEN i % 50 = 0 THEN 30000 + i % 1000 ELSE i % 5000 END) * 1.000001 AS sh
    FROM range($first, $first + $rows) t(i)
)
SELECT
    substr(sha256('t' || i), 1, 32) AS trade_key,
    '0x' || substr(sha256('w' || (i % $wallets)), 1, 40) AS wallet,
    '0x' || sha256('x' || (i // 2)) AS tx_hash,
    CAST(1 + i % 2000 AS BIGINT) AS market_id,
    CAST(1 + i % 2000 AS BIGINT) AS root_market_id,
    'Will market ' || (i % 2000) || ' resolve YES?' AS market_title,
    'Will market ' || (i % 2000) || ' resolve YES?' AS root_market_title,
    ['BUY', 'SELL', 'BUY', 'MERGE'][1 + i % 4] AS side,
    CASE WHEN i % 5 < 3 THEN 'YES' ELSE 'NO' END AS outcome,
    CAST(CASE WHEN i % 5 < 3 THEN 1 ELSE 2 END AS BIGINT) AS outcome_side,
    CAST(CAST(px AS DECIMAL(10, 3)) AS VARCHAR) AS price,
    CAST(CAST(sh AS DECIMAL(20, 6)) AS VARCHAR) AS shares,
    CAST(CAST(sh * px AS DECIMAL(30, 9)) AS VARCHAR) AS amount,
    '0.' || lpad(CAST(i % 100000 AS VARCHAR), 5, '0') AS fee,
    CASE WHEN i % 4 = 0 THEN '0' ELSE '-12.' || (i % 997) END AS profit,
    '0x55d398326f99059ff775485246999027b3197955' AS quote_token,
    ['1', '0.9998', '1.0001', '1'][1 + i % 4] AS quote_token_usd_price,
    CAST(CAST(sh * px AS DECIMAL(38, 18)) AS VARCHAR) AS usd_value,
    CAST(CAST(sh * px AS DECIMAL(30, 9)) AS VARCHAR) AS usd_amount_reported,
    2 AS status,
    '56' AS chain_id,
    CAST($start - i AS BIGINT) AS created_at,
    CAST(0 AS BIGINT) AS occurrence
FROM g
"""


ROW_BY_ROW_TABLE = "trades_rowwise"


def frame_params(rows: int, first: int = 0, wallets: int = 1000) -> dict[str, int]:
    """Parameters of the generator: trades number ``first`` .. ``first + rows - 1``."""
    return {"rows": rows, "first": first, "wallets": wallets, "start": common.FROZEN_START}


def trade_frame(rows: int, wallets: int = 1000, first: int = 0) -> Any:
    """N distinct trades shaped like ``prepare_trades(...).rows`` (object/int64 columns).

    Trade number i always gets the same key and values, so frames with overlapping ranges
    overlap in the warehouse too.
    """
    import duckdb

    from opinion_pipeline.defs.whale_trades.validate import TRADE_COLUMNS

    with duckdb.connect() as conn:
        frame = conn.execute(FRAME_SQL, frame_params(rows, first, wallets)).df()
    for column in ("root_market_id", "status"):  # python ints in object columns, as prepared
        frame[column] = frame[column].astype(object)
    return frame[TRADE_COLUMNS]


def timed_insert(path: Path, frame: Any) -> dict[str, Any]:
    """One `insert_trades` call in one transaction: seconds, rows/s, peak memory."""
    from opinion_pipeline.defs.whale_trades.store import insert_trades

    warehouse = common.warehouse(path)
    with common.PeakMemory() as memory:
        started = time.perf_counter()
        with warehouse.transaction() as conn:
            call = time.perf_counter()
            result = insert_trades(DuckDBSession(conn), frame, run_id="bench", alert_usd=10_000)
            call = time.perf_counter() - call
        seconds = time.perf_counter() - started
    return {
        "rows": len(frame),
        "new": result.new,
        "skipped": result.duplicates,
        "seconds": round(seconds, 3),
        "insert_call_s": round(call, 3),
        "rows_per_s": round(len(frame) / seconds),
        "peak_rss_mb": memory.peak_mb,
        "rss_rise_mb": memory.rise_mb,
    }


def row_by_row(path: Path, frame: Any) -> dict[str, Any]:
    """Baseline: one parameterised INSERT ... ON CONFLICT DO NOTHING per row, one transaction.

    Into ``trades_rowwise``: ``trades`` with its key as a PRIMARY KEY, the best case for a
    row-by-row writer (each row's conflict is an index probe, not a scan).
    """
    from opinion_pipeline.defs.whale_trades.tables import TRADES
    from opinion_pipeline.defs.whale_trades.validate import TRADE_COLUMNS
    from opinion_pipeline.warehouse.ddl import load_expression

    expressions = ", ".join(
        load_expression(TRADES.column(column)).replace(column, "?", 1) for column in TRADE_COLUMNS
    )
    sql = (
        f"INSERT INTO {ROW_BY_ROW_TABLE} ({', '.join(TRADE_COLUMNS)}, market_known, ingested_at, "
        f"run_id) SELECT {expressions}, false, now(), 'baseline' "
        "ON CONFLICT (trade_key) DO NOTHING"
    )
    records = [tuple(row) for row in frame.itertuples(index=False)]
    warehouse = common.warehouse(path)
    started = time.perf_counter()
    with warehouse.transaction() as conn:
        _ensure_row_by_row_table(conn)
        for record in records:
            conn.execute(sql, [None if value != value else value for value in record])
    seconds = time.perf_counter() - started
    rate = round(len(records) / seconds)
    return {"rows": len(records), "seconds": round(seconds, 3), "rows_per_s": rate}


def _ensure_row_by_row_table(conn: Any, copy_trades: bool = False) -> None:
    from opinion_pipeline.defs.whale_trades.tables import TRADES
    from opinion_pipeline.warehouse.ddl import create_statement

    statement = create_statement(TRADES).replace(
        "IF NOT EXISTS trades (", f"IF NOT EXISTS {ROW_BY_ROW_TABLE} ("
    )
    conn.execute(statement.replace("trade_key VARCHAR NOT NULL", "trade_key VARCHAR PRIMARY KEY"))
    if copy_trades:
        conn.execute(f"INSERT OR IGNORE INTO {ROW_BY_ROW_TABLE} SELECT * FROM trades")


def fill_row_by_row_table(path: Path) -> None:
    """Give the baseline's table the rows ``trades`` holds, for the all-skipped baseline."""
    with common.warehouse(path).transaction() as conn:
        _ensure_row_by_row_table(conn, copy_trades=True)


def one_round(rows: int, sample: int) -> dict[str, Any]:
    with common.workdir("writes") as tmp:
        frame = trade_frame(rows)
        path = tmp / "warehouse.duckdb"
        first = timed_insert(path, frame)
        common.say(f"  insert {rows} new: {first}")
        again = timed_insert(path, frame)
        common.say(f"  insert the same {rows} again (all skipped): {again}")
        base_new = row_by_row(tmp / "baseline.duckdb", frame.iloc[:sample])
        common.say(f"  baseline row-by-row, {sample} new rows (sample): {base_new}")
        fill_row_by_row_table(path)
        base_dup = row_by_row(path, frame.iloc[:sample])
        common.say(f"  baseline row-by-row, {sample} existing rows (sample): {base_dup}")
    return {
        "new": first,
        "skipped": again,
        "baseline_new": base_new,
        "baseline_skipped": base_dup,
        "speedup_new": round(first["rows_per_s"] / base_new["rows_per_s"], 1),
        "speedup_skipped": round(again["rows_per_s"] / base_dup["rows_per_s"], 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=5_000, help="row-by-row sample")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.baseline_rows, args.repeat = 20_000, 500, 1
    rounds = []
    for index in range(args.repeat):
        common.say(f"round {index + 1}/{args.repeat}")
        rounds.append(one_round(args.rows, args.baseline_rows))
    figures = {
        "machine": common.machine(),
        "rows": args.rows,
        "baseline_sample_rows": args.baseline_rows,
        "baseline_extrapolated": True,
        "rounds": rounds,
    }
    for kind in ("new", "skipped"):
        figures[f"{kind}_rows_per_s"] = common.spread([r[kind]["rows_per_s"] for r in rounds], 0)
        figures[f"{kind}_seconds"] = common.spread([r[kind]["seconds"] for r in rounds])
        figures[f"{kind}_peak_rss_mb"] = common.spread([r[kind]["peak_rss_mb"] for r in rounds], 1)
        figures[f"{kind}_rss_rise_mb"] = common.spread([r[kind]["rss_rise_mb"] for r in rounds], 1)
        figures[f"speedup_{kind}"] = common.spread([r[f"speedup_{kind}"] for r in rounds], 1)
        common.say(
            f"{kind}: {figures[f'{kind}_rows_per_s']} rows/s, peak RSS "
            f"{figures[f'{kind}_peak_rss_mb']} MB, x{figures[f'speedup_{kind}']} vs row-by-row"
        )
    common.emit("warehouse_writes", figures)
    return figures


if __name__ == "__main__":
    main()
