"""Every benchmark runs end to end at tiny sizes (--quick), so none can rot unnoticed.

The benchmarks are run by hand for BENCHMARKS.md; here they only have to finish and end with
their one JSON line. They run as concurrent subprocesses to keep this test near 60 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = (
    "whale_sync",
    "market_sweep",
    "warehouse_writes",
    "steady_writes",
    "whale_stats",
    "orchestration",
    "growth",
    "polling_model",
    "polling",
    "whale_pnl",
    "positions_snapshot",
    "discovery_budget",
    "sync_beside_discovery",
)
TIMEOUT_S = 240


def test_every_benchmark_runs_quick(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DAGSTER_HOME", None)
    processes = {}
    for name in BENCHMARKS:
        log = (tmp_path / f"{name}.log").open("w")
        processes[name] = (
            subprocess.Popen(
                [sys.executable, "-m", f"benchmarks.{name}", "--quick"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            ),
            log,
        )
    deadline = time.monotonic() + TIMEOUT_S
    failures = []
    for name, (process, log) in processes.items():
        try:
            code = process.wait(max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        log.close()
        output = (tmp_path / f"{name}.log").read_text()
        lines = output.strip().splitlines()
        try:
            last = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            last = {}
        if code != 0 or last.get("benchmark") != name:
            failures.append(f"{name} (exit {code}):\n{output[-3000:]}")
    assert not failures, "\n\n".join(failures)
