"""Growth: `python -m benchmarks.growth`: how each cost grows with whales, trades and markets.

Three sizes per dimension, each measured once in this run with the other benchmarks' code:
whales -> whale sync cycle with nothing new (pipeline only, no baseline); trades -> upsert of
new trades, a sync-sized write into a warehouse of that many trades, and whale stats
recompute; markets -> market sweep. Prints a table and, per step, the growth of the cost
against the growth of the size (1.0 = linear). `--only NAME ...` measures some dimensions.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from benchmarks import (
    common,
    market_sweep,
    steady_writes,
    warehouse_writes,
    whale_stats,
    whale_sync,
)

SIZES = {
    "whales": [100, 300, 1000],
    "write_trades": [100_000, 300_000, 1_000_000],
    "stored_trades": [500_000, 1_500_000, 5_000_000],
    "stats_trades": [1_000_000, 3_000_000, 10_000_000],
    "markets": [500, 1000, 2000],
}
QUICK = {
    "whales": [5, 10, 20],
    "write_trades": [2_000, 4_000, 8_000],
    "stored_trades": [5_000, 10_000, 20_000],
    "stats_trades": [10_000, 20_000, 40_000],
    "markets": [20, 40, 80],
}


def _whales(size: int, quick: bool) -> float:
    args = argparse.Namespace(
        repeat=1, workers=4, baseline_whales=-1, advance=600.0, history_days=0.5 if quick else 3.0
    )
    return whale_sync.bench_size(size, args)["nothing_new"]["wall_s"]["median"]


def _rows(name: str, sizes: list[int], cost: list[float], unit: str) -> list[dict[str, Any]]:
    rows = []
    for index, (size, seconds) in enumerate(zip(sizes, cost, strict=True)):
        row = {"dimension": name, "size": size, "seconds": seconds, "unit": unit}
        if index:
            size_ratio = size / sizes[index - 1]
            cost_ratio = seconds / cost[index - 1] if cost[index - 1] else float("nan")
            row["growth_exponent_vs_previous"] = round(
                math.log(cost_ratio) / math.log(size_ratio), 2
            )
        rows.append(row)
        common.say(f"  {name:24s} {size:>10,d} -> {seconds:8.3f} s")
    return rows


def _measure(dimension: str, size: int, quick: bool) -> float:
    if dimension == "whales":
        return _whales(size, quick)
    if dimension == "write_trades":
        return warehouse_writes.one_round(size, 200)["new"]["seconds"]
    if dimension == "stored_trades":
        batch = 1_000 if quick else 20_000
        return steady_writes.measure(size, batch, 2)["seconds"]["median"]
    if dimension == "stats_trades":
        return whale_stats.measure(size, 100 if quick else 10_000, 1)["seconds"]["median"]
    return market_sweep.measure(size, 1)["filled"]["wall_s"]["median"]


LABELS = {
    "whales": ("whale sync (nothing new)", "whales"),
    "write_trades": ("upsert new trades", "trades"),
    "stored_trades": ("sync-sized write", "stored trades"),
    "stats_trades": ("whale stats", "trades"),
    "markets": ("market sweep", "markets"),
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SIZES), default=list(SIZES))
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else SIZES
    table: list[dict[str, Any]] = []
    for dimension in args.only:
        cost = [_measure(dimension, size, args.quick) for size in sizes[dimension]]
        label, unit = LABELS[dimension]
        table += _rows(label, sizes[dimension], cost, unit)
    common.emit("growth", {"machine": common.machine(), "table": table})
    return {"table": table}


if __name__ == "__main__":
    main()
