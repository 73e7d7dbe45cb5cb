"""Secrets: after a full cycle of the four jobs, the API key is nowhere on disk or in any log.

The jobs run as a user runs them (``dagster job execute``, one persistent Dagster home) with a
distinctive key, and a fifth run uses a second, wrong key so the failure path (HTTP 401, error
messages, Dagster failure events) is searched too. Then every byte the pipeline produced is
searched for either key: the Dagster home (run and event-log SQLite, compute logs, everything),
the CLI output, the warehouse, the archives, the rate limiter's state and the simulator's log.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.simulator.util import fingerprint
from opinion_pipeline_tests.conftest import SMALL_WORLD, write_whales_file
from opinion_pipeline_tests.reliability.dagster_cli import clean_env, finish, launch, prepare_home
from opinion_pipeline_tests.reliability.figures import record


def _occurrences(data: bytes, needles: list[bytes]) -> int:
    return sum(data.count(needle) for needle in needles)


def _forms(key: str) -> list[bytes]:
    """The key as UTF-8 and as UTF-16 (SQLite and Windows-ish logs may hold either)."""
    return [key.encode(), key.encode("utf-16-le")]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_api_key_appears_nowhere_after_a_full_cycle(tmp_path: Path) -> None:
    key = f"sk-canary-{secrets.token_hex(16)}"
    wrong_key = f"sk-wrong-canary-{secrets.token_hex(16)}"
    home = prepare_home(tmp_path / "dagster_home")
    with SimulatorProcess(key, **SMALL_WORLD) as sim:
        whales = write_whales_file(tmp_path / "whales.csv", sim.wallets())
        variables = {
            "OPINION_API_KEY": key,
            "OPINION_API_BASE_URL": sim.base_url,
            "OPINION_LEADERBOARD_URL": sim.leaderboard_url,
            "OPINION_WHALES_FILE": str(whales),
            "OPINION_DATA_DIR": str(tmp_path / "data"),
            "OPINION_RATE_LIMIT_DIR": str(tmp_path / "limiter"),
            "OPINION_RETENTION_DAYS": "1",  # the 3-day world then has something to archive
        }
        env = clean_env(home, **variables)
        outputs: list[str] = []
        for phase in (["sync_markets"], ["sync_whale_trades"]):
            code, output = finish(launch(phase[0], env))
            outputs.append(output)
            assert code == 0, f"{phase[0]} failed:\n{output[-3000:]}"
        wrong_env = clean_env(home, **{**variables, "OPINION_API_KEY": wrong_key})
        last = [
            launch("compute_whale_stats", env),
            launch("cleanup_old_activity", env),
            launch("sync_whale_trades", wrong_env),
        ]
        results = [finish(process) for process in last]
        outputs += [output for _, output in results]
        assert results[0][0] == 0 and results[1][0] == 0, results[1][1][-3000:]
        assert results[2][0] != 0 and "HTTP 401" in results[2][1], "the wrong key is refused"
        by_key = sim.counters()["by_key"]
        simulator_log = sim.stderr()
    assert by_key[fingerprint(key)]["ok"] > 0, "the canary key was really used"
    assert by_key[fingerprint(wrong_key)]["unauthorized"] > 0

    needles = _forms(key) + _forms(wrong_key)
    searched: dict[str, int] = {}
    found: list[str] = []
    roots = {
        "dagster_home": home,
        "data": tmp_path / "data",
        "limiter": tmp_path / "limiter",
    }
    for name, root in roots.items():
        files = [path for path in root.rglob("*") if path.is_file()]
        searched[name] = len(files)
        found += [str(path) for path in files if _occurrences(path.read_bytes(), needles)]
    text = "\n".join(outputs) + simulator_log
    found += ["job output"] * _occurrences(text.encode(), needles)
    archives = list((tmp_path / "data" / "archive").rglob("*.parquet"))
    sqlite = [path for path in home.rglob("*") if path.suffix == ".db"]
    compute_logs = [path for path in home.rglob("*") if path.suffix in (".out", ".err")]
    record(
        "secrets",
        runs=5,
        files_searched=sum(searched.values()),
        files_searched_by_root=searched,
        sqlite_files=len(sqlite),
        compute_log_files=len(compute_logs),
        archive_files=len(archives),
        output_bytes_searched=len(text),
        key_occurrences=len(found),
    )
    assert archives and sqlite, "the cycle wrote archives and run history to search"
    assert found == [], f"the API key leaked into: {found}"
