"""PnL and skill: `python -m benchmarks.whale_pnl [--trades 10000000 --whales 10000]`.

Fills a DuckDB warehouse file with the whale_stats benchmark's N trades of W whales over 2,000
markets (generated inside DuckDB), half of the markets Resolved with a result token, the rest
open (no positions snapshots: open positions are marked with trade prices). Then times the
pipeline's `recompute_pnl` and `recompute_skill`, as the compute_whale_pnl job runs them, with
the process's peak memory. The issue's goal: 10 M trades and 10 k whales under 5 s and 2 GB.

`--population uniform` (the default, the figures before 2026-12-06) is the whale_stats
generator: ~1.27 trades per position, nothing partly sold or decided. `--population realistic`
(benchmarks/pnl_population.py) has 5-30 fills per position, partial sells, closed positions and
positions held into resolutions.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.pnl_population import build_trades as build_realistic_trades
from benchmarks.whale_stats import build as build_uniform_trades

MARKETS = 2000
TRADE_BUILDERS = {"uniform": build_uniform_trades, "realistic": build_realistic_trades}
POPULATIONS = tuple(TRADE_BUILDERS)

# Markets 1..2000 as the trades generator uses them: even ids Resolved (status 4) with the Yes
# or No token as result, odd ids Activated (2).
_MARKETS_SQL = """
INSERT INTO markets (market_id, market_type, title, status, yes_token_id, no_token_id,
                     result_token_id, first_seen_at, updated_at)
SELECT i, 0, 'market ' || i, CASE WHEN i % 2 = 0 THEN 4 ELSE 2 END,
       'y' || i, 'n' || i,
       CASE WHEN i % 2 = 1 THEN '' WHEN i % 4 = 0 THEN 'y' || i ELSE 'n' || i END,
       now(), now()
FROM range(1, $markets + 1) t(i)
"""


def build(path: Path, trades: int, whales: int, population: str = "uniform") -> float:
    started = time.perf_counter()
    TRADE_BUILDERS[population](path, trades, whales)
    with common.warehouse(path).transaction() as conn:
        conn.execute(_MARKETS_SQL, {"markets": MARKETS})
    return time.perf_counter() - started


def timed(path: Path) -> dict[str, Any]:
    from opinion_pipeline.defs.whale_pnl.compute import recompute_pnl
    from opinion_pipeline.defs.whale_skill.compute import recompute_skill

    as_of = datetime.fromtimestamp(common.FROZEN_START, timezone.utc)
    warehouse = common.warehouse(path)
    with common.PeakMemory() as memory:
        started = time.perf_counter()
        pnl = recompute_pnl(warehouse, as_of)
        middle = time.perf_counter()
        skill = recompute_skill(warehouse, as_of, min_decided=20)
        ended = time.perf_counter()
    return {
        "seconds": round(ended - started, 3),
        "pnl_s": round(middle - started, 3),
        "skill_s": round(ended - middle, 3),
        "whales": pnl.whales,
        "positions": pnl.positions,
        "open_positions": pnl.open_positions,
        "skill_whales": skill.whales,
        "peak_rss_mb": memory.peak_mb,
        "rss_rise_mb": memory.rise_mb,
    }


def cached(cache: Path, trades: int, whales: int, population: str) -> tuple[Path, float]:
    """The generated warehouse for (trades, whales) in ``cache``, built on first use only.

    Generation at 10 M trades takes minutes; every recompute replaces the PnL tables in full, so
    a cached file measures the same work as a fresh one.
    """
    suffix = "" if population == "uniform" else f"-{population}"
    path = cache / f"pnl-{trades}-{whales}{suffix}.duckdb"
    if path.exists():
        with common.warehouse(path).connection():
            pass  # a file cached by an older version is migrated here, not inside a timed run
        return path, 0.0
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    built = build(partial, trades, whales, population)
    Path(f"{partial}.lock").unlink(missing_ok=True)
    partial.rename(path)
    return path, built


def measure(
    trades: int, whales: int, repeat: int, cache: Path | None, population: str = "uniform"
) -> dict[str, Any]:
    with common.workdir("pnl") as tmp:
        if cache is None:
            path = tmp / "warehouse.duckdb"
            built = build(path, trades, whales, population)
        else:
            path, built = cached(cache, trades, whales, population)
        common.say(f"trades={trades} whales={whales}: generated in {built:.1f} s ({path})")
        runs = common.repeated(repeat, "recompute", lambda _: timed(path))
        shape = population_shape(path)
    return {
        "population": population,
        **shape,
        "trades": trades,
        "whales": whales,
        "markets": MARKETS,
        "generate_s": round(built, 1),
        "runs": runs,
        "seconds": common.spread([run["seconds"] for run in runs]),
        "peak_rss_mb": common.spread([run["peak_rss_mb"] for run in runs], 1),
    }


def population_shape(path: Path) -> dict[str, int]:
    """What the generated warehouse holds, from the last recompute's positions."""
    with common.warehouse(path).connection() as conn:
        stored, partly_sold, decided, closed = conn.execute(
            """
            SELECT (SELECT count(*) FROM trades),
                   count(*) FILTER (WHERE NOT resolved AND shares_held > 0 AND shares_sold > 0),
                   count(*) FILTER (WHERE decided), count(*) FILTER (WHERE shares_held = 0)
            FROM whale_position_pnl
            """
        ).fetchone()
    return {
        "stored_trades": stored,
        "open_partly_sold": partly_sold,
        "decided": decided,
        "closed": closed,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=10_000_000)
    parser.add_argument("--whales", type=int, default=10_000)
    parser.add_argument(
        "--cache", type=Path, help="keep the generated warehouse in this directory and reuse it"
    )
    parser.add_argument("--population", choices=POPULATIONS, default="uniform")
    args = parser.parse_args(argv)
    if args.quick:
        args.trades, args.whales, args.repeat = 5_000, 20, 1
    figures = {
        "machine": common.machine(),
        **measure(args.trades, args.whales, args.repeat, args.cache, args.population),
    }
    common.say(
        f"PnL and skill over {args.trades} {args.population} trades / {args.whales} whales: "
        f"{figures['seconds']} s, peak RSS {figures['peak_rss_mb']} MB"
    )
    common.emit("whale_pnl", figures)
    return figures


if __name__ == "__main__":
    main()
