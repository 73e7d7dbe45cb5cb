"""Growth: `python -m benchmarks.growth`: how each cost grows with whales, trades and markets.

Three sizes per dimension, each measured once in this run with the other benchmarks' code:
whales -> whale sync cycle with nothing new (pipeline only, no baseline); trades -> upsert of
new trades and whale stats recompute; markets -> market sweep. Prints a table and, per step,
the growth of the cost against the growth of the size (1.0 = linear).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from benchmarks import common, market_sweep, warehouse_writes, whale_stats, whale_sync

SIZES = {
    "whales": [100, 300, 1000],
    "write_trades": [100_000, 300_000, 1_000_000],
    "stats_trades": [1_000_000, 3_000_000, 10_000_000],
    "markets": [500, 1000, 2000],
}
QUICK = {
    "whales": [5, 10, 20],
    "write_trades": [2_000, 4_000, 8_000],
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    sizes = QUICK if args.quick else SIZES
    table: list[dict[str, Any]] = []
    cost = [_whales(size, args.quick) for size in sizes["whales"]]
    table += _rows("whale sync (nothing new)", sizes["whales"], cost, "whales")
    cost = [warehouse_writes.one_round(n, 200)["new"]["seconds"] for n in sizes["write_trades"]]
    table += _rows("upsert new trades", sizes["write_trades"], cost, "trades")
    whales = 100 if args.quick else 10_000
    cost = [whale_stats.measure(n, whales, 1)["seconds"]["median"] for n in sizes["stats_trades"]]
    table += _rows("whale stats", sizes["stats_trades"], cost, "trades")
    cost = [market_sweep.measure(n, 1)["filled"]["wall_s"]["median"] for n in sizes["markets"]]
    table += _rows("market sweep", sizes["markets"], cost, "markets")
    common.emit("growth", {"machine": common.machine(), "table": table})
    return {"table": table}


if __name__ == "__main__":
    main()
