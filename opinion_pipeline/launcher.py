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

from opinion_pipeline.config import Settings, SettingsError, load_settings

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
    env["OPINION_MODE"] = "simulator"  # the key above is the simulator's: not real mode
    env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home" / "simulator"))
    print(
        "\n  OPINION_API_KEY is not set: running against the Opinion API SIMULATOR (fake data)\n"
        f"  at {simulator.base_url}. Set OPINION_API_KEY to use the real API.\n",
        flush=True,
    )


SIMULATOR_WALLETS = ROOT / "opinion_pipeline" / "simulator" / "whales.csv"
QUERY_EXAMPLES = (
    "warehouse-query --tables",
    'warehouse-query "SELECT label, total_volume_usd, trade_count FROM whale_stats '
    'ORDER BY 2 DESC LIMIT 10"',
)


def _settings_for(env: dict[str, str]) -> Settings:
    """The settings the pipeline's processes will read from ``env`` (config's one reader)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed_simulator_registry(registry: Path) -> None:
    """Simulator mode's registry starts as a copy of the simulated wallets, then is the user's."""
    if registry.exists():
        return
    registry.parent.mkdir(parents=True, exist_ok=True)
    registry.write_text(
        "# The whale registry of SIMULATOR mode, the one in use: edit it, the next sync reads it.\n"
        "# Started as a copy of opinion_pipeline/simulator/whales.csv, the simulated wallets.\n"
        + "\n".join(
            line
            for line in SIMULATOR_WALLETS.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")
        )
        + "\n",
        encoding="utf-8",
    )


def banner(settings: Settings, host: str, port: int) -> str:
    """What scripts/start prints once the paths are known: every file a user may look for."""
    queries = ("\n" + " " * 15).join(QUERY_EXAMPLES)
    return (
        f"  Dagster UI:  http://{host}:{port}\n"
        f"  Mode:        {settings.effective_mode}\n"
        f"  Instance:    {settings.dagster_home_dir}\n"
        f"  Warehouse:   {settings.warehouse_file}\n"
        f"  Registry:    {settings.registry_file}  (the whales tracked: edit it, the next sync "
        "reads it)\n"
        f"  Query it:    {queries}\n"
        "  Sync log:    sync-log --status failed --since 24h\n"
        f"  Alert links: {settings.alert_links_base_url}/runs/<run id>\n"
    )


def main(argv: list[str] | None = None) -> int:
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
        # What the UI is served on, for the pipeline too: alert links follow --port / --host.
        env.update(OPINION_UI_HOST=args.host, OPINION_UI_PORT=str(args.port))
        child_settings = _settings_for(env)
        if child_settings.effective_mode == "simulator":
            seed_simulator_registry(child_settings.registry_file)
        print(banner(child_settings, args.host, args.port), flush=True)
        from opinion_pipeline.stack import run_stack  # supervised daemon, UI and code server

        return run_stack(ROOT, home, env, settings, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
