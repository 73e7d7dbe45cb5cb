"""Shared fixtures: a real simulator process on loopback, real DuckDB files, real instances."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from opinion_pipeline.config import load_settings
from opinion_pipeline.opinion_api import OpinionAPI
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.reliability import figures

# A small world with a frozen clock: tests move time with simulator.advance(seconds).
SMALL_WORLD = {"seed": 7, "markets": 30, "wallets": 8, "history_days": 3, "clock_speed": 0.0}


def distinctive_key() -> str:
    return f"sk-test-{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def api_key() -> str:
    return distinctive_key()


@pytest.fixture(scope="module")
def simulator(api_key: str) -> Iterator[SimulatorProcess]:
    with SimulatorProcess(api_key, **SMALL_WORLD) as sim:
        yield sim


@pytest.fixture
def fresh_simulator(api_key: str) -> Iterator[SimulatorProcess]:
    """A simulator of the test's own, for tests that change faults or the clock."""
    with SimulatorProcess(api_key, **SMALL_WORLD) as sim:
        yield sim


def make_client(sim: SimulatorProcess, api_key: str, limiter_dir: Path, **overrides) -> OpinionAPI:
    options = {
        "base_url": sim.base_url,
        "api_key": api_key,
        "leaderboard_url": sim.leaderboard_url,
        "limiter_dir": str(limiter_dir),
        "backoff_base_s": 0.02,
        "backoff_max_s": 0.2,
        "read_timeout_s": 5.0,
    }
    options.update(overrides)
    return OpinionAPI(**options)


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))


def write_whales_file(path: Path, wallets: list[dict]) -> Path:
    lines = ["address,label,tags"] + [
        f"{wallet['address']},{wallet['label']},{wallet.get('profile', '')}" for wallet in wallets
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def pipeline_env(tmp_path: Path, simulator: SimulatorProcess, api_key: str, monkeypatch) -> dict:
    """Environment for Definitions-level tests: every path in tmp_path, the simulator as API."""
    whales = write_whales_file(tmp_path / "whales.csv", simulator.wallets())
    env = {
        "OPINION_API_KEY": api_key,
        "OPINION_API_BASE_URL": simulator.base_url,
        "OPINION_LEADERBOARD_URL": simulator.leaderboard_url,
        "OPINION_DATA_DIR": str(tmp_path / "data"),
        "OPINION_WHALES_FILE": str(whales),
        "OPINION_RATE_LIMIT_DIR": str(tmp_path / "limiter"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OPINION_WAREHOUSE_PATH", raising=False)
    monkeypatch.delenv("OPINION_ARCHIVE_DIR", raising=False)
    return env


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A real, temporary Dagster instance."""
    with dg.instance_for_test() as test_instance:
        yield test_instance


def pipeline_warehouse() -> DuckDBWarehouse:
    """The warehouse the Definitions use with the current environment (see pipeline_env)."""
    return DuckDBWarehouse(path=str(load_settings().warehouse_file))


# -- the test pyramid ----------------------------------------------------------------------------
# unit: in-process (the in-process fake client, real DuckDB files, stub servers on threads);
# integration: a real simulator process, real Dagster instances; e2e: a real daemon, webserver
# or launcher. `scripts/test --fast` runs the unit tier. A test without a tier is integration.
TIERS = ("unit", "integration", "e2e")
PROCESS_FIXTURES = frozenset({"simulator", "fresh_simulator", "pipeline_env"})
E2E_DIRECTORIES = ("ui",)


# pytest-xdist (`--dist loadgroup`) gives each group to one worker: a group is a test file, so
# its module fixtures are set up once, except that every file of an e2e directory is one group,
# so its package fixture (the UI tests' webserver + daemon, ~1 min to fill) starts once, not once
# per worker that happens to take one of its files.
@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the marks into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(Path(__file__).parent).parts
        e2e_directory = parts[0] in E2E_DIRECTORIES
        item.add_marker(pytest.mark.xdist_group(parts[0] if e2e_directory else "/".join(parts)))
        tiers = [tier for tier in TIERS if item.get_closest_marker(tier)]
        if "unit" in tiers and PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            raise pytest.UsageError(f"{item.nodeid} is marked unit but starts a process")
        if not tiers:
            item.add_marker("e2e" if e2e_directory else "integration")
    # The e2e groups are the longest (minutes on one worker): handed out first, they run beside
    # the many short files instead of after them.
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


# -- reliability figures across pytest-xdist workers ----------------------------------------------
def _worker_id(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else None


def pytest_configure(config: pytest.Config) -> None:
    if _worker_id(config) is None and not os.environ.get(figures.SPOOL_ENV):
        os.environ[figures.SPOOL_ENV] = tempfile.mkdtemp(prefix="opinion-figures-")


def pytest_sessionfinish(session: pytest.Session) -> None:
    worker = _worker_id(session.config)
    if worker is not None:
        figures.spool(worker)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _worker_id(config) is None:
        shutil.rmtree(os.environ.pop(figures.SPOOL_ENV, ""), ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    lines = figures.dump()
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
