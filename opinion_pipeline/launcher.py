"""``scripts/start``: the Dagster UI and daemon on a persistent instance, simulator if no key.

With ``OPINION_API_KEY`` set, the pipeline talks to the real API (or OPINION_API_BASE_URL).
Without it, this starts the Opinion API simulator on loopback, says so loudly, and points the
pipeline at it; simulator mode keeps its own data directory and Dagster home, so fake data never
mixes with real data. The pipeline itself never falls back to the simulator.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _persisted(path: Path, make: str) -> str:
    """A value kept across restarts (the simulated world must not shift under the warehouse)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make, encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _prepare_home(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_bytes() != (ROOT / "dagster.yaml").read_bytes():
        shutil.copy(ROOT / "dagster.yaml", config)


def _start_simulator(stack: ExitStack, env: dict[str, str], port: int) -> None:
    from opinion_pipeline.simulator.process import SimulatorProcess

    data_dir = Path(env.setdefault("OPINION_DATA_DIR", str(ROOT / "data" / "simulator")))
    state = data_dir / ".simulator"  # lives and dies with the data the simulated world produced
    key = _persisted(state / "api-key", f"sim-{secrets.token_hex(16)}")
    world_start = int(_persisted(state / "world-start", str(int(time.time()))))
    simulator = stack.enter_context(
        SimulatorProcess(
            key,
            port=port,
            world_start=world_start,
            clock_speed=1.0,
        )
    )
    env.update(
        {
            "OPINION_API_KEY": key,
            "OPINION_API_BASE_URL": simulator.base_url,
            "OPINION_LEADERBOARD_URL": simulator.leaderboard_url,
        }
    )
    env.setdefault("OPINION_WHALES_FILE", str(ROOT / "opinion_pipeline/simulator/whales.csv"))
    env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home" / "simulator"))
    print(
        "\n  OPINION_API_KEY is not set: running against the Opinion API SIMULATOR (fake data)\n"
        f"  at {simulator.base_url}. Set OPINION_API_KEY to use the real API.\n",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    from opinion_pipeline.config import SettingsError, load_settings

    try:
        settings = load_settings()  # the one reader of the environment (config.py)
    except SettingsError as error:
        print(f"scripts/start: bad configuration: {error}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.ui_host)
    parser.add_argument("--port", type=int, default=settings.ui_port)
    parser.add_argument("--simulator-port", type=int, default=settings.simulator_port)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    with ExitStack() as stack:
        if not env.get("OPINION_API_KEY", "").strip():
            _start_simulator(stack, env, args.simulator_port)
        else:
            env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home" / "live"))
        home = Path(env["DAGSTER_HOME"])
        _prepare_home(home)
        data_dir = env.get("OPINION_DATA_DIR", str(ROOT / "data"))
        print(
            f"  Dagster UI:  http://{args.host}:{args.port}\n"
            f"  Instance:    {home}\n"
            f"  Warehouse:   {env.get('OPINION_WAREHOUSE_PATH', data_dir + '/warehouse.duckdb')}\n"
            '  Query it:    warehouse-query "SELECT * FROM whale_stats"\n',
            flush=True,
        )
        from opinion_pipeline.stack import run_stack  # supervised daemon, UI and code server

        return run_stack(ROOT, home, env, settings, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
