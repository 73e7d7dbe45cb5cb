"""Two processes syncing at full speed against a simulator limited to 15 req/s: zero 429s.

This is the property the shared limiter exists for: separate Dagster runs (processes) with
thread pools, one API key, one machine. Each child uses the client's default pacing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.opinion_api.helpers import counters_for, distinctive_key

DURATION_S = 7.0
CHILD = """
import json, os, sys, time
from concurrent.futures import ThreadPoolExecutor
from opinion_pipeline.opinion_api import OpinionAPI

base_url, leaderboard_url, limiter_dir, duration = sys.argv[1:5]
wallets = sys.argv[5:]
api = OpinionAPI(base_url=base_url, leaderboard_url=leaderboard_url, limiter_dir=limiter_dir,
                 api_key=os.environ["OPINION_API_KEY"])
api.list_markets()  # warm up (imports, connection), then forget it
api.reset_stats()
print("ready", flush=True)
start = float(sys.stdin.readline())
time.sleep(max(0.0, start - time.time()))
deadline = start + float(duration)

def work(worker):
    n = worker
    while time.time() < deadline:
        wallet = wallets[n % len(wallets)]
        if n % 3 == 2:
            api.list_wallet_positions(wallet)
        else:
            api.fetch_wallet_trades(wallet, max_pages=2)
        n += 1

with ThreadPoolExecutor(max_workers=4) as pool:
    list(pool.map(work, range(4)))
print(json.dumps({"stats": api.stats(), "end": time.time()}), flush=True)
"""


def test_two_processes_full_speed_zero_429(tmp_path: Path) -> None:
    key = distinctive_key()
    default_rate = OpinionAPI.model_fields["rate_limit_per_second"].default
    with SimulatorProcess(
        key, seed=3, wallets=10, markets=20, history_days=3, clock_speed=0.0
    ) as sim:
        wallets = [w["address"] for w in sim.wallets()]
        env = {**os.environ, "OPINION_API_KEY": key}
        args = [sim.base_url, sim.leaderboard_url, str(tmp_path / "limiter"), str(DURATION_S)]
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, *args, *wallets],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(2)
        ]
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        sim.reset_counters()
        start = time.time() + 0.2
        for child in children:
            assert child.stdin is not None
            child.stdin.write(f"{start}\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=60) for child in children]
        served = counters_for(sim, key)

    reports = []
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert key not in out and key not in err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    requests = sum(r["stats"]["requests"] for r in reports)
    elapsed = max(r["end"] for r in reports) - start
    rate = (requests - 1) / elapsed  # N requests paced at r/s span (N-1)/r seconds
    print(f"two processes: {requests} requests in {elapsed:.2f}s = {rate:.2f}/s, 429s: 0")

    assert served["rate_limited"] == 0 and all(r["stats"]["rate_limited"] == 0 for r in reports)
    assert served["requests"] == requests
    assert all(r["stats"]["requests"] > requests * 0.3 for r in reports)  # both got a share
    assert rate <= default_rate * 1.02
    assert rate >= 0.9 * default_rate  # the limiter, not the client, sets the pace
