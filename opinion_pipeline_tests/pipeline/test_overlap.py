"""The four jobs launched at the same time, each in its own process as Dagster runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import dagster as dg
import pytest

from opinion_pipeline_tests.conftest import pipeline_warehouse
from opinion_pipeline_tests.pipeline.helpers import ROOT

JOBS = ["sync_markets", "sync_whale_trades", "compute_whale_stats", "cleanup_old_activity"]


def _launch(job: str, env: dict[str, str]) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "dagster",
        "job",
        "execute",
        "-m",
        "opinion_pipeline.definitions",
        "-j",
        job,
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.timeout(240)
def test_all_jobs_at_once_repeatedly_all_succeed(pipeline_env, simulator, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    # Create the instance's storage once, as `dagster dev` does before any run is launched;
    # four processes creating a fresh SQLite instance at the same moment would race.
    dg.DagsterInstance.from_config(str(home)).dispose()
    env = {**os.environ, **pipeline_env, "DAGSTER_HOME": str(home)}
    for round_number in range(2):
        processes = {job: _launch(job, env) for job in JOBS}
        for job, process in processes.items():
            output, _ = process.communicate(timeout=200)
            assert process.returncode == 0, f"round {round_number}: {job} failed:\n{output[-3000:]}"
            assert "Could not set lock" not in output
        simulator.advance(600)
    with pipeline_warehouse().connection() as conn:
        assert conn.execute("SELECT count(*) FROM markets").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM trades").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM whale_stats").fetchone()[0] > 0
