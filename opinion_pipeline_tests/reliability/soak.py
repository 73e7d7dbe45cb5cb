"""Soak: a day of schedules on an accelerated clock, with memory and storage sampled.

``python -m opinion_pipeline_tests.reliability.soak --hours 24`` runs, against a simulator
whose clock it moves one minute per cycle, what the schedules run in that many hours: a whale
sync (registry reload included) every minute, a market sweep every 5 minutes, the stats every
hour and one retention run, in this one process, as a long-lived worker would. It samples this
process's RSS and the warehouse's size, prints a line per simulated hour and a final JSON line.

Why these bounds: a leak shows as RSS still climbing after warm-up (the first tenth of the run),
and a storage problem as a file much larger than its content (compared with a compact copy) or
growth without new rows. At the end every trade of the truth must be in the warehouse or in
exactly one archive file: the soak is also a long correctness run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.retention.archive import archive_and_delete
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_stats.compute import replace_whale_stats
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.conftest import write_whales_file
from opinion_pipeline_tests.pipeline.helpers import truth_fills, warehouse_fills
from opinion_pipeline_tests.reliability.helpers import archived_fills

RETENTION_DAYS = 7  # below the world's 14 days of history, so retention has work to do


@dataclass
class Sample:
    minute: int
    rss_mb: float
    warehouse_mb: float
    trades: int
    inserted: int  # trades inserted since the start (retention deletes; inserts only grow)


@dataclass
class Soak:
    hours: float
    whale_syncs: int = 0
    market_sweeps: int = 0
    stats_runs: int = 0
    retention_runs: int = 0
    inserted: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    samples: list[Sample] = field(default_factory=list)


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _size_mb(path: Path) -> float:
    files = [path, Path(f"{path}.wal")]
    return sum(file.stat().st_size for file in files if file.exists()) / 2**20


def _sample(minute: int, warehouse: DuckDBWarehouse, inserted: int) -> Sample:
    with warehouse.connection(read_only=True) as conn:
        trades = conn.execute("SELECT count(*) FROM trades").fetchone()[0]  # type: ignore[index]
    return Sample(minute, rss_mb(), _size_mb(Path(warehouse.path)), int(trades), inserted)


def _compact_mb(warehouse: DuckDBWarehouse, directory: Path) -> float:
    """Size of a fresh copy holding the same data: what the file would be without bloat."""
    target = directory / "compact.duckdb"
    source = warehouse.path.replace("'", "''")
    with warehouse.connection(read_only=True), duckdb.connect(str(target)) as copy:
        copy.execute(f"ATTACH '{source}' AS source (READ_ONLY)")
        copy.execute("COPY FROM DATABASE source TO compact")
        copy.execute("DETACH source")
    return _size_mb(target)


def _step(soak: Soak, name: str, action: Any) -> None:
    """Run one scheduled job; a failure is counted (a failed run), not fatal."""
    try:
        action()
    except Exception as error:  # the soak reports failures; a later run must recover
        soak.failures[f"{name}: {type(error).__name__}"] += 1


def run_soak(hours: float, directory: Path, wallets: int, markets: int) -> dict[str, Any]:
    key = f"soak-{secrets.token_hex(8)}"
    minutes = int(hours * 60)
    retention_at = min(180, minutes // 2)
    soak = Soak(hours=hours)
    warehouse = DuckDBWarehouse(path=str(directory / "warehouse.duckdb"))
    archive = directory / "archive"
    started = time.monotonic()
    world = {"seed": 3, "markets": markets, "wallets": wallets, "history_days": 14}
    with SimulatorProcess(key, clock_speed=0.0, rate_limit=0.0, **world) as sim:
        whales = write_whales_file(directory / "whales.csv", sim.wallets())
        client = OpinionAPI(
            base_url=sim.base_url, api_key=key, limiter_dir=str(directory / "limiter"),
            rate_limit_per_second=1000.0, backoff_base_s=0.02, backoff_max_s=0.2,
        )  # fmt: skip
        options = WhaleSyncOptions(workers=4)

        def whale_sync() -> None:
            sync_whale_registry(warehouse, whales)
            report = sync_whale_trades(client, warehouse, tracked_whales(warehouse), options)
            soak.inserted += report.new_rows

        def stats() -> None:
            now = datetime.fromtimestamp(sim.clock()["now"], timezone.utc)
            with warehouse.transaction() as conn:
                replace_whale_stats(DuckDBSession(conn), now)

        def retention() -> None:
            now = datetime.fromtimestamp(sim.clock()["now"], timezone.utc)
            cutoff = now - timedelta(days=RETENTION_DAYS)
            with warehouse.transaction() as conn:
                archive_and_delete(
                    DuckDBSession(conn), archive, cutoff=cutoff, now=now, run_id="soak"
                )

        for minute in range(minutes):
            if minute:
                sim.advance(60)
            _step(soak, "whale_sync", whale_sync)
            soak.whale_syncs += 1
            if minute % 5 == 0:
                _step(soak, "market_sweep", lambda: sync_markets(client, warehouse))
                soak.market_sweeps += 1
            if minute % 60 == 0:
                _step(soak, "whale_stats", stats)
                soak.stats_runs += 1
            if minute == retention_at:
                _step(soak, "retention", retention)
                soak.retention_runs += 1
            if minute % 10 == 0 or minute == minutes - 1:
                soak.samples.append(_sample(minute, warehouse, soak.inserted))
            if minute % 60 == 59:
                last = soak.samples[-1]
                print(
                    f"hour {(minute + 1) // 60:>2}: trades={last.trades} rss={last.rss_mb:.0f}MB "
                    f"warehouse={last.warehouse_mb:.1f}MB failures={sum(soak.failures.values())} "
                    f"elapsed={time.monotonic() - started:.0f}s",
                    flush=True,
                )
        _step(soak, "whale_sync", whale_sync)  # the last minute's trades, then compare
        truth = truth_fills(sim.truth_trades())
        simulator_rss = rss_mb(sim.pid) if sim.pid else 0.0
    with warehouse.connection(read_only=True) as conn:
        kept = warehouse_fills(conn)
    archived = archived_fills(archive)
    held = kept + archived
    return _figures(soak, started, truth, held, archived, _compact_mb(warehouse, directory)) | {
        "simulator_rss_mb": round(simulator_rss, 1)
    }


def _figures(
    soak: Soak, started: float, truth: Counter, held: Counter, archived: Counter, compact: float
) -> dict[str, Any]:
    samples = soak.samples
    warm = samples[max(1, len(samples) // 10)]
    last = samples[-1]
    inserted = max(1, last.inserted - warm.inserted)
    return {
        "simulated_hours": soak.hours,
        "whale_syncs": soak.whale_syncs,
        "market_sweeps": soak.market_sweeps,
        "stats_runs": soak.stats_runs,
        "retention_runs": soak.retention_runs,
        "failed_runs": dict(soak.failures),
        "trades_in_truth": sum(truth.values()),
        "trades_archived": sum(archived.values()),
        "rows_lost": sum((truth - held).values()),
        "rows_duplicated": sum((held - truth).values()),
        "rss_mb_after_warmup": round(warm.rss_mb, 1),
        "rss_mb_end": round(last.rss_mb, 1),
        "rss_mb_max": round(max(s.rss_mb for s in samples), 1),
        "rss_growth_mb_after_warmup": round(last.rss_mb - warm.rss_mb, 1),
        "warehouse_mb_after_warmup": round(warm.warehouse_mb, 2),
        "warehouse_mb_end": round(last.warehouse_mb, 2),
        "warehouse_mb_compact_copy": round(compact, 2),
        "warehouse_bloat_ratio": round(last.warehouse_mb / compact, 2) if compact else None,
        "trades_inserted_after_warmup": last.inserted - warm.inserted,
        "warehouse_growth_bytes_per_inserted_trade": round(
            (last.warehouse_mb - warm.warehouse_mb) * 2**20 / inserted
        ),
        "trades_stored_end": last.trades,
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    parser.add_argument("--wallets", type=int, default=30, help="simulated whales (default 30)")
    parser.add_argument("--markets", type=int, default=60, help="top-level markets (default 60)")
    parser.add_argument("--dir", type=Path, help="where to keep the warehouse (default: temp)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opinion-soak-") as scratch:
        directory = args.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        figures = run_soak(args.hours, directory, args.wallets, args.markets)
    print(json.dumps({"soak": figures, "pid": os.getpid()}, sort_keys=True), flush=True)
    return 0 if figures["rows_lost"] == 0 and figures["rows_duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
