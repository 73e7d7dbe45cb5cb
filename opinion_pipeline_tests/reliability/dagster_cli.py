"""Run jobs as a user does: ``python -m dagster job execute`` with a home and an environment.

The environment is the caller's minus every OPINION_* and DAGSTER_* variable, plus what the
test sets, so a developer's own configuration never leaks into (or rescues) a test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JOBS = ("sync_markets", "sync_whale_trades", "compute_whale_stats", "cleanup_old_activity")


def clean_env(home: Path, **variables: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OPINION_", "DAGSTER_"))
    }
    return {**env, "DAGSTER_HOME": str(home), **variables}


def prepare_home(home: Path) -> Path:
    """A persistent instance as scripts/start makes it (the project's dagster.yaml)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def job_command(job: str) -> list[str]:
    return [
        sys.executable, "-m", "dagster", "job", "execute",
        "-m", "opinion_pipeline.definitions", "-j", job,
    ]  # fmt: skip


def launch(job: str, env: dict[str, str], prefix: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*prefix, *job_command(job)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output
