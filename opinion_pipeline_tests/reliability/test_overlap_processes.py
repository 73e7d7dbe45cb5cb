"""Overlap: every job's work launched at the same instant, in separate processes, many rounds.

Extends pipeline/test_overlap.py (two rounds of the four jobs through ``dagster job execute``)
with more rounds at the level Dagster runs them: each round starts, at once, two whale syncs
(a manual run next to the scheduled one), a market sweep, the stats job, retention and two
read-only queries, all against one DuckDB file and one shared rate limiter. All must succeed
(no "Could not set lock", no timeout) and the final warehouse plus its archive must equal the
truth (retention archives the inactive whales' old trades while the syncs run).
"""

from __future__ import annotations

import time
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import pytest

from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.conftest import SMALL_WORLD, write_whales_file
from opinion_pipeline_tests.reliability import tasks
from opinion_pipeline_tests.reliability.crash import run_to_end
from opinion_pipeline_tests.reliability.figures import record
from opinion_pipeline_tests.reliability.helpers import compare_markets, compare_trades

ROUNDS = 6
ROUND = (
    ("whale_sync", {}),
    ("whale_sync", {"flush_every_wallets": 1}),
    ("market_sweep", {}),
    ("whale_stats", {}),
    ("retention", {}),
    ("read_query", {}),
    ("read_query", {}),
)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_all_jobs_at_once_repeatedly_succeed_and_stay_exact(
    forkserver: BaseContext, api_key: str, tmp_path: Path
) -> None:
    # The venue's limit and the client's pacing (96 % of it, one budget shared by every process),
    # both scaled x4 so the rounds take seconds.
    with SimulatorProcess(api_key, **{**SMALL_WORLD, "rate_limit": 60.0}) as sim:
        sim.set_faults(latency_ms=5, latency_jitter_ms=20)
        whales = write_whales_file(tmp_path / "whales.csv", sim.wallets())
        warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
        base: dict[str, Any] = {
            "client": {
                "base_url": sim.base_url,
                "api_key": api_key,
                "limiter_dir": str(tmp_path / "limiter"),
                "rate_limit_per_second": 57.6,
                "backoff_base_s": 0.05,
            },
            "warehouse": warehouse.path,
            "whales_file": str(whales),
            "archive_dir": str(tmp_path / "archive"),
        }
        launched = 0
        longest = 0.0
        for number in range(ROUNDS):
            started = time.monotonic()
            processes = []
            for index, (task, extra) in enumerate(ROUND):
                params = {**base, **extra, "run_id": f"round-{number}-{index}"}
                process = forkserver.Process(target=tasks.run, args=(task, params), daemon=True)
                process.start()
                processes.append((task, process))
            for task, process in processes:
                process.join(180)
                assert process.exitcode == 0, f"round {number}: {task} exited {process.exitcode}"
            launched += len(processes)
            longest = max(longest, time.monotonic() - started)
            sim.advance(900)
        run_to_end(forkserver, "whale_sync", {**base, "run_id": "final"})
        run_to_end(forkserver, "market_sweep", {**base, "run_id": "final-markets"})
        with warehouse.connection(read_only=True) as conn:
            trades = compare_trades(sim, conn, archive=tmp_path / "archive")
            markets = compare_markets(sim, conn)
            stats = conn.execute("SELECT count(*) FROM whale_stats").fetchone()[0]
        rate_limited = sim.counters()["total"]["rate_limited"]
        wallets = len(sim.wallets())
    record(
        "overlap/processes",
        rounds=ROUNDS,
        processes_launched=launched,
        processes_failed=0,
        longest_round_s=round(longest, 1),
        venue_429s=rate_limited,
        rows_lost=trades["missing"],
        rows_duplicated=sum(trades["extra"].values()),
    )
    assert not trades["extra"] and trades["missing"] == 0
    assert markets["wrong"] == 0 and not markets["extra"]
    assert stats == wallets
