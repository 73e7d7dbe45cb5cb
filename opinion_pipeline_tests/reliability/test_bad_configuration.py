"""Bad configuration: each mistake gives a clear message, a non-zero exit, and writes nothing.

Every case runs the whale job exactly as a user would (``python -m dagster job execute -m
opinion_pipeline.definitions -j sync_whale_trades``) with its own Dagster home and environment.
The cases run at the same time (each is seconds of interpreter start-up), then each test
checks its own: exit code, the message naming the problem, and the data directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.reliability.dagster_cli import clean_env, finish, launch, prepare_home
from opinion_pipeline_tests.reliability.figures import record

GOOD = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
BAD_REGISTRY = (
    "address,label,tags\n"
    f"{GOOD},good,fund\n"  # line 2
    "0x1234,short address,\n"  # line 3
    f"{GOOD.upper().replace('0X', '0x')},same address again,\n"  # line 4
    f"{OTHER},too,many,columns\n"  # line 5
)
NO_DAC = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")


@dataclass(frozen=True)
class Case:
    name: str
    expected: tuple[str, ...]  # every one must appear in the output
    env: Callable[[Path, SimulatorProcess, str], dict[str, str]]
    nothing_in: str = "data"  # what must stay empty: "data" dir, or just the "trades" table
    prefix: tuple[str, ...] = ()
    setup: Callable[[Path], None] = lambda directory: None
    tags: tuple[str, ...] = field(default_factory=tuple)


def _sim_env(directory: Path, sim: SimulatorProcess, key: str) -> dict[str, str]:
    whales = directory / "whales.csv"
    if not whales.exists():
        whales.write_text(f"address,label,tags\n{sim.wallets()[0]['address']},one,\n")
    return {
        "OPINION_API_KEY": key,
        "OPINION_API_BASE_URL": sim.base_url,
        "OPINION_WHALES_FILE": str(whales),
        "OPINION_DATA_DIR": str(directory / "data"),
        "OPINION_RATE_LIMIT_DIR": str(directory / "limiter"),
    }


def _read_only_dir(directory: Path) -> None:
    (directory / "data").mkdir()
    (directory / "data").chmod(0o555)


def _root_without_dac() -> tuple[str, ...]:
    """As root, permission bits bind only without CAP_DAC_OVERRIDE: drop it with setpriv."""
    return NO_DAC if os.geteuid() == 0 and shutil.which("setpriv") else ()


CASES = [
    Case(
        "malformed_and_duplicated_whale_lines",
        (
            "line 3",
            "'0x1234' is not an address",
            "line 4",
            "duplicate address",
            "line 5",
            "expected 2 or 3 columns",
            "3 bad line(s)",
        ),
        lambda d, sim, key: {
            **_sim_env(d, sim, key),
            "OPINION_WHALES_FILE": str(d / "bad-whales.csv"),
        },
        setup=lambda d: (d / "bad-whales.csv").write_text(BAD_REGISTRY),
    ),
    Case(
        "invalid_base_url",
        ("OPINION_API_BASE_URL", "must be an http(s) URL", "'openapi.opinion.trade/openapi'"),
        lambda d, sim, key: {
            **_sim_env(d, sim, key),
            "OPINION_API_BASE_URL": "openapi.opinion.trade/openapi",
        },
    ),
    Case(
        "missing_key_against_the_real_url",
        ("OPINION_API_KEY is not set", "docs.opinion.trade", "simulator"),
        lambda d, sim, key: {
            name: value
            for name, value in _sim_env(d, sim, key).items()
            if name not in ("OPINION_API_KEY", "OPINION_API_BASE_URL")
        },
    ),
    Case(
        "data_dir_path_through_a_file",
        ("cannot create the warehouse directory", "Not a directory", "OPINION_DATA_DIR"),
        lambda d, sim, key: {**_sim_env(d, sim, key), "OPINION_DATA_DIR": str(d / "blocker/data")},
        setup=lambda d: (d / "blocker").write_text("a file, not a directory\n"),
    ),
    Case(
        "read_only_data_dir",
        ("cannot create the warehouse lock", "Permission denied"),
        _sim_env,
        setup=_read_only_dir,
        prefix=_root_without_dac(),
        tags=("needs-permissions",),
    ),
    Case(
        "unreachable_base_url",
        ("could be synced; nothing was stored", "connection failed", "GET /openapi/trade/user/"),
        lambda d, sim, key: {
            **_sim_env(d, sim, key),
            "OPINION_API_BASE_URL": "http://127.0.0.1:9/openapi",
            "OPINION_MAX_RETRIES": "1",
        },
        nothing_in="trades",
    ),
    Case(
        "bad_alert_threshold",
        ("OPINION_WHALE_ALERT_USD='lots' is not a number",),
        lambda d, sim, key: {**_sim_env(d, sim, key), "OPINION_WHALE_ALERT_USD": "lots"},
    ),
]


def _permissions_bind() -> bool:
    return os.geteuid() != 0 or bool(_root_without_dac())


@pytest.fixture(scope="module")
def runs(
    simulator: SimulatorProcess, api_key: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    started = {}
    for case in CASES:
        if "needs-permissions" in case.tags and not _permissions_bind():
            continue
        directory = tmp_path_factory.mktemp(case.name)
        case.setup(directory)
        home = prepare_home(directory / "dagster_home")
        env = clean_env(home, **case.env(directory, simulator, api_key))
        started[case.name] = (directory, launch("sync_whale_trades", env, case.prefix))
    return {name: (directory, *finish(process)) for name, (directory, process) in started.items()}


def _data_files(directory: Path) -> list[str]:
    roots = [directory / "data", directory / "blocker"]
    return sorted(
        str(path.relative_to(directory))
        for root in roots
        if root.is_dir()
        for path in root.rglob("*")
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_configuration_fails_clearly_and_writes_nothing(
    case: Case, runs: dict[str, Any]
) -> None:
    if case.name not in runs:
        pytest.skip("root without setpriv: permission bits cannot be enforced here")
    directory, code, output = runs[case.name]
    missing = [text for text in case.expected if text not in output]
    record("bad_configuration", **{case.name: {"exit_code": code, "message_found": not missing}})
    assert code != 0, f"{case.name}: the job must fail\n{output[-3000:]}"
    assert not missing, f"{case.name}: message lacks {missing}\n{output[-4000:]}"
    if case.nothing_in == "data":
        assert _data_files(directory) == [], f"{case.name}: something was written"
    else:
        with duckdb.connect(str(directory / "data" / "warehouse.duckdb"), read_only=True) as conn:
            assert conn.execute("SELECT count(*) FROM trades").fetchone()[0] == 0
