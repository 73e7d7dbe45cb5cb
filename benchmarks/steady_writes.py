"""Steady-state writes: `python -m benchmarks.steady_writes [--stored 5000000] [--batch 20000]`.

What one sync's write costs once the warehouse is big. A warehouse holding --stored trades is
generated inside DuckDB (the generator of `benchmarks.warehouse_writes`, cast exactly as
`insert_trades` casts); then, in a new process each time (every Dagster run is one), one
`insert_trades` of --batch trades, half of them already stored, in one `warehouse.transaction()`
on a fresh copy of that file. Reported: seconds (lock, open, key check, insert, commit), the
child's peak resident memory and its rise during the write, and the warehouse file's size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.warehouse_writes import FRAME_SQL, frame_params, trade_frame
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession


def build_warehouse(path: Path, stored: int) -> float:
    """``stored`` trades (numbers 0 .. stored-1) written in one statement; returns seconds."""
    from opinion_pipeline.defs.whale_trades.tables import TRADES
    from opinion_pipeline.defs.whale_trades.validate import TRADE_COLUMNS
    from opinion_pipeline.warehouse.ddl import load_select

    selected = load_select(TRADES)
    started = time.perf_counter()
    with common.warehouse(path).transaction() as conn:
        conn.execute(
            f"INSERT INTO trades ({', '.join(TRADE_COLUMNS)}, market_known, ingested_at, run_id) "
            f"SELECT {selected}, true, now(), 'generated' FROM ({FRAME_SQL})",
            frame_params(stored),
        )
    return time.perf_counter() - started


def child(path: Path, stored: int, batch: int) -> dict[str, Any]:
    """In this (new) process: one sync-sized write into the warehouse at ``path``."""
    from opinion_pipeline.defs.whale_trades.store import insert_trades

    frame = trade_frame(batch, first=stored - batch // 2)
    warehouse = common.warehouse(path)
    with common.PeakMemory() as memory:
        started = time.perf_counter()
        with warehouse.transaction() as conn:
            result = insert_trades(DuckDBSession(conn), frame, run_id="steady", alert_usd=10_000)
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "new": result.new,
        "skipped": result.duplicates,
        "peak_rss_mb": memory.peak_mb,
        "rss_rise_mb": memory.rise_mb,
    }


def one_round(source: Path, work: Path, stored: int, batch: int) -> dict[str, Any]:
    target = work / "copy.duckdb"
    shutil.copyfile(source, target)
    command = [sys.executable, "-m", "benchmarks.steady_writes", "--child", str(target)]
    command += ["--stored", str(stored), "--batch", str(batch)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(stored: int, batch: int, repeat: int) -> dict[str, Any]:
    """Build a warehouse of ``stored`` trades, then time ``repeat`` writes, each on a copy."""
    with common.workdir("steady") as tmp:
        source = tmp / "warehouse.duckdb"
        built_s = build_warehouse(source, stored)
        file_mb = round(source.stat().st_size / 2**20, 1)
        common.say(f"warehouse of {stored} trades built in {built_s:.1f} s: {file_mb} MB")
        rounds = []
        for index in range(repeat):
            rounds.append(one_round(source, tmp, stored, batch))
            common.say(f"  round {index + 1}/{repeat}: {rounds[-1]}")
    figures: dict[str, Any] = {
        "stored": stored,
        "batch": batch,
        "file_mb": file_mb,
        "build_s": round(built_s, 1),
        "rounds": rounds,
    }
    for name in ("seconds", "peak_rss_mb", "rss_rise_mb"):
        figures[name] = common.spread([r[name] for r in rounds], 3 if name == "seconds" else 1)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=5_000_000, help="trades already stored")
    parser.add_argument("--batch", type=int, default=20_000, help="trades written (half new)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.stored, args.batch)))
        return {}
    if args.quick:
        args.stored, args.batch, args.repeat = 50_000, 2_000, 1
    figures = {"machine": common.machine(), **measure(args.stored, args.batch, args.repeat)}
    common.say(
        f"write of {args.batch} trades (half new) into {args.stored}: {figures['seconds']} s, "
        f"peak RSS {figures['peak_rss_mb']} MB; file {figures['file_mb']} MB"
    )
    common.emit("steady_writes", figures)
    return figures


if __name__ == "__main__":
    main()
