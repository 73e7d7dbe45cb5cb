"""Whale stats: `python -m benchmarks.whale_stats [--trades 10000000 --whales 10000]`.

Fills a DuckDB warehouse file with N trades of W whales generated inside DuckDB (SQL range(),
never through Python), then times the pipeline's `recompute_whale_stats` in one warehouse
transaction, as the compute_whale_stats asset runs it, with the process's peak memory.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import common
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession

_WHALES_SQL = """
INSERT INTO whales (address, label, tags, in_registry, first_listed_at, last_listed_at)
SELECT '0x' || substr(sha256('w' || i), 1, 40), 'whale-' || i, ['bench'], true, now(), now()
FROM range($whales) t(i)
"""

# Trades spread over 120 days before the fixed start; decimals cast from integers in SQL.
_TRADES_SQL = """
INSERT INTO trades
SELECT
    substr(sha256('t' || i), 1, 32),
    '0x' || substr(sha256('w' || (hash(i) % $whales)), 1, 40),
    '0x' || sha256('x' || (i // 2)),
    1 + i % 2000, 1 + i % 2000, 'market ' || (i % 2000), 'market ' || (i % 2000),
    ['BUY', 'SELL', 'BUY', 'MERGE'][1 + i % 4],
    CASE WHEN i % 5 < 3 THEN 'YES' ELSE 'NO' END,
    CASE WHEN i % 5 < 3 THEN 1 ELSE 2 END,
    (1 + i % 999) / 1000,
    (i % 200000) * 1.000001,
    (i % 200000) * 1.000001 * ((1 + i % 999) / 1000),
    (i % 1000) / 100,
    CASE WHEN i % 4 = 0 THEN 0 ELSE -(i % 997) / 10 END,
    '0x55d398326f99059ff775485246999027b3197955',
    1,
    (i % 200000) * 1.000001 * ((1 + i % 999) / 1000),
    NULL, 2, '56',
    to_timestamp($start - (hash(i * 7) % (120 * 86400))),
    0, true, now(), 'bench'
FROM range($trades) t(i)
"""


def build(path: Path, trades: int, whales: int) -> float:
    """Create the warehouse with the pipeline's schema and fill it; returns seconds."""

    started = time.perf_counter()
    params = {"whales": whales, "trades": trades, "start": common.FROZEN_START}
    with common.warehouse(path).transaction() as conn:
        conn.execute(_WHALES_SQL, {"whales": whales})
        conn.execute(_TRADES_SQL, params)
    return time.perf_counter() - started


def timed_stats(path: Path) -> dict[str, Any]:
    from opinion_pipeline.defs.whale_stats.compute import replace_whale_stats

    as_of = datetime.fromtimestamp(common.FROZEN_START, timezone.utc)
    warehouse = common.warehouse(path)
    with common.PeakMemory() as memory:
        started = time.perf_counter()
        with warehouse.transaction() as conn:
            whales = replace_whale_stats(DuckDBSession(conn), as_of)
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "whales": whales,
        "peak_rss_mb": memory.peak_mb,
        "rss_rise_mb": memory.rise_mb,
    }


def measure(trades: int, whales: int, repeat: int) -> dict[str, Any]:
    with common.workdir("stats") as tmp:
        path = tmp / "warehouse.duckdb"
        built = build(path, trades, whales)
        common.say(f"trades={trades} whales={whales}: generated in {built:.1f} s")
        runs = common.repeated(repeat, "recompute", lambda _: timed_stats(path))
        size_mb = round(path.stat().st_size / 1e6, 1)
    return {
        "trades": trades,
        "whales": whales,
        "generate_s": round(built, 1),
        "file_mb": size_mb,
        "runs": runs,
        "seconds": common.spread([run["seconds"] for run in runs]),
        "peak_rss_mb": common.spread([run["peak_rss_mb"] for run in runs], 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=10_000_000)
    parser.add_argument("--whales", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.quick:
        args.trades, args.whales, args.repeat = 50_000, 100, 1
    figures = {"machine": common.machine(), **measure(args.trades, args.whales, args.repeat)}
    common.say(
        f"whale stats over {args.trades} trades / {args.whales} whales: "
        f"{figures['seconds']} s, peak RSS {figures['peak_rss_mb']} MB"
    )
    common.emit("whale_stats", figures)
    return figures


if __name__ == "__main__":
    main()
