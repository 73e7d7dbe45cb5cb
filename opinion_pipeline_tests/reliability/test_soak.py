"""The soak command, short: 2 simulated hours of schedules in its own process.

The full run (``python -m opinion_pipeline_tests.reliability.soak --hours 24``) is a separate
command whose result is recorded in RELIABILITY.md; this runs the same code for 120 whale syncs,
24 market sweeps, 2 stats runs and a retention, and holds it to the same bounds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from opinion_pipeline_tests.reliability.dagster_cli import ROOT
from opinion_pipeline_tests.reliability.figures import record

RSS_GROWTH_MB = 40.0  # after warm-up; the 24 h run grew far less (RELIABILITY.md)
BLOAT_RATIO = 2.5  # file size / size of a compact copy of the same data
GROWTH_MB = 8.0  # file growth after warm-up (2 h bring few trades: a per-trade figure is noise)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_simulated_hours_flat_memory_bounded_storage_nothing_lost(tmp_path) -> None:
    command = [
        sys.executable, "-m", "opinion_pipeline_tests.reliability.soak",
        "--hours", "2", "--wallets", "8", "--markets", "30", "--dir", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])["soak"]
    record("soak/2h", **figures)
    assert (figures["whale_syncs"], figures["market_sweeps"]) == (120, 24)
    assert (figures["stats_runs"], figures["retention_runs"]) == (2, 1)
    assert figures["failed_runs"] == {}
    assert figures["rows_lost"] == 0 and figures["rows_duplicated"] == 0
    assert figures["trades_archived"] > 0, "retention had old trades to archive"
    assert figures["rss_growth_mb_after_warmup"] < RSS_GROWTH_MB
    assert figures["warehouse_bloat_ratio"] < BLOAT_RATIO
    growth = figures["warehouse_mb_end"] - figures["warehouse_mb_after_warmup"]
    assert growth < GROWTH_MB
