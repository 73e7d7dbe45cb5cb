"""Orchestration: `python -m benchmarks.orchestration [--phase overhead|freshness|both]`.

Runs a real `dagster-daemon` on a temporary DAGSTER_HOME holding the project's dagster.yaml,
with the project's workspace.yaml, against the simulator (15 req/s, 60-120 ms latency).

- overhead: the simulator's clock is frozen and every whale is backfilled first, so each
  scheduled `sync_whale_trades` run finds nothing new; for --ticks scheduled runs it reports
  tick (the cron time) -> run created -> started -> finished, and the sync's own seconds.
- freshness: the clock runs at speed 1 for --minutes; every trade that appears in the simulator
  in the window is looked up in the warehouse: latency = ingested_at - createdAt (a trade still
  missing at the end counts as infinitely late).
- --quick: no cron wait; the daemon launches the first-run sensor's sync_whale_trades run on
  the fresh instance and that one run is timed (smoke test).

Scheduled runs that overlap the start-up burst (the runs the first-run sensor launches on the
fresh instance: every job at once, on 2 cores) are not counted: they time the installation's
first minutes, not the steady state. The other jobs' scheduled runs (sync_markets every 5
minutes, ...) still run beside the ones timed, as in production. Each timed run is split into
the phases of its event log (queue, worker launch, definitions load, ...: ``PHASES``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import common
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession

ROOT = Path(__file__).resolve().parents[1]
JOB = "sync_whale_trades"


def _whales_csv(sim: Any, path: Path) -> None:
    lines = ["address,label,tags"]
    lines += [f"{w['address']},{w['label']},{w['profile']}" for w in sim.wallets()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def environment(tmp: Path, sim: Any, config: Path = ROOT / "dagster.yaml") -> dict[str, str]:
    """The daemon's environment: temp home with the project's dagster.yaml, temp data."""
    home = tmp / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(config, home / "dagster.yaml")
    _whales_csv(sim, tmp / "whales.csv")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "OPINION_API_KEY": common.BENCH_KEY,
        "OPINION_API_BASE_URL": sim.base_url,
        "OPINION_LEADERBOARD_URL": sim.leaderboard_url,
        "OPINION_DATA_DIR": str(tmp / "data"),
        "OPINION_WHALES_FILE": str(tmp / "whales.csv"),
        "OPINION_RATE_LIMIT_DIR": str(tmp / "limiter"),
        # The simulated world lies in the past: without this, the daily mark_inactive_whales run
        # (01:00 UTC) would find every whale inactive and later syncs would skip them all.
        "OPINION_INACTIVE_AFTER_DAYS": "36500",
    }
    # As deployed, Python caches compiled modules; a shell with PYTHONDONTWRITEBYTECODE set would
    # make every run worker compile the project's modules from source again (~0.2 s a run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def backfill(env: dict[str, str], base_url: str, rate: float) -> int:
    """Registry and full histories into the warehouse before the daemon starts."""
    from opinion_pipeline.defs.whale_registry.registry_file import load_whales
    from opinion_pipeline.defs.whale_registry.store import sync_registry
    from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades

    whales = load_whales(Path(env["OPINION_WHALES_FILE"]))
    warehouse = common.warehouse(Path(env["OPINION_DATA_DIR"]) / "warehouse.duckdb")
    with warehouse.transaction() as conn:
        sync_registry(DuckDBSession(conn), whales)
    api = common.client(base_url, Path(env["OPINION_RATE_LIMIT_DIR"]) / "backfill", rate=rate)
    report = sync_whale_trades(api, warehouse, whales, WhaleSyncOptions(workers=6))
    api.close()
    return report.new_rows


class Daemon:
    """`dagster-daemon run` in its own process group, stopped by that group's id."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        command = [str(Path(sys.executable).parent / "dagster-daemon"), "run"]
        command += ["-w", str(ROOT / "workspace.yaml")]
        self._log = log.open("w")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.started = time.time()

    def stop(self) -> None:
        group = self.process.pid
        for sig, wait in ((signal.SIGINT, 20), (signal.SIGKILL, 5)):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(group, sig)
                self.process.wait(wait)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                continue
        with contextlib.suppress(ProcessLookupError):  # leftovers: code server, run workers
            os.killpg(group, signal.SIGKILL)
        self._log.close()


def _instance(env: dict[str, str]) -> Any:
    from dagster import DagsterInstance

    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    return DagsterInstance.get()


# A run's phases, each from one event of its log to the next one named here.
PHASES = (
    ("queue_s", "PIPELINE_ENQUEUED", "PIPELINE_STARTING"),  # the queue daemon's next poll
    ("launch_s", "PIPELINE_STARTING", "worker_up"),  # spawn, Dagster's imports, the instance
    ("load_s", "worker_up", "PIPELINE_START"),  # the definitions' import, the plan
    ("setup_s", "PIPELINE_START", "sync_step"),  # resources, the registry step
    ("sync_step_s", "sync_step", "STEP_SUCCESS"),  # whale_trades: the sync and its checks
    ("finish_s", "STEP_SUCCESS", "PIPELINE_SUCCESS"),
)


def _run_events(instance: Any, run_id: str) -> dict[str, Any]:
    """The whale_trades materialization's ``seconds`` and ``whales_polled``, and the phases."""
    figures: dict[str, Any] = {"seconds": None, "whales_polled": None}
    marks: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        name = event.event_type_value
        if name == "ENGINE_EVENT" and (event.message or "").startswith("Started process"):
            name = "worker_up"  # the run worker has loaded the instance (dagster._grpc.impl)
        elif name == "STEP_START" and record.step_key == "whale_trades":
            name = "sync_step"
        elif name == "STEP_SUCCESS" and record.step_key != "whale_trades":
            continue
        elif name == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            if materialization.asset_key.path[-1] == "whale_trades":
                for key in ("seconds", "whales_polled"):
                    value = materialization.metadata.get(key)
                    figures[key] = None if value is None else float(value.value)
        marks.setdefault(name, record.timestamp)
    for phase, start, end in PHASES:
        ok = start in marks and end in marks
        figures[phase] = round(marks[end] - marks[start], 3) if ok else None
    return figures


def _start_up_windows(instance: Any) -> list[tuple[float, float]]:
    """(created, ended) of the first-run sensor's runs: the fresh instance's start-up burst."""
    from dagster import RunsFilter
    from dagster._core.storage.tags import SENSOR_NAME_TAG

    windows = []
    for record in instance.get_run_records(RunsFilter(tags={SENSOR_NAME_TAG: "first_run_sensor"})):
        ended = record.end_time or float("inf")
        windows.append((record.create_timestamp.timestamp(), ended))
    return windows


def finished_runs(instance: Any, *, scheduled: bool) -> list[dict[str, Any]]:
    """Finished sync_whale_trades runs: tick/created/started/ended and their gaps."""
    from dagster import RunsFilter
    from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

    out = []
    start_up = _start_up_windows(instance) if scheduled else []
    for record in instance.get_run_records(RunsFilter(job_name=JOB)):
        run = record.dagster_run
        if record.end_time is None:
            continue
        tick_tag = run.tags.get(SCHEDULED_EXECUTION_TIME_TAG)
        if scheduled != (tick_tag is not None):
            continue
        created = record.create_timestamp.timestamp()
        tick = datetime.fromisoformat(tick_tag).timestamp() if tick_tag else created
        if any(tick < ended and record.end_time > began for began, ended in start_up):
            continue
        started = record.start_time or created
        events = _run_events(instance, run.run_id)
        sync_s = events.pop("seconds")
        out.append(
            {
                "run_id": run.run_id,
                "status": run.status.value,
                "tick": tick,
                "tick_to_created_s": round(created - tick, 3),
                "created_to_started_s": round(started - created, 3),
                "started_to_end_s": round(record.end_time - started, 3),
                "tick_to_end_s": round(record.end_time - tick, 3),
                "sync_s": None if sync_s is None else round(sync_s, 3),
                "overhead_s": None if sync_s is None else round(record.end_time - tick - sync_s, 3),
                **events,
            }
        )
    return sorted(out, key=lambda item: item["tick"])


def _wait_runs(instance: Any, count: int, timeout: float, *, scheduled: bool) -> list[Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = finished_runs(instance, scheduled=scheduled)
        if len(runs) >= count:
            return runs
        time.sleep(2.0)
    return finished_runs(instance, scheduled=scheduled)


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {"runs": runs, "n": len(runs)}
    names = ("tick_to_end_s", "tick_to_created_s", "created_to_started_s", "started_to_end_s",
             "sync_s", "overhead_s", *(phase for phase, _start, _end in PHASES))  # fmt: skip
    for name in names:
        values = [run[name] for run in runs if run[name] is not None]
        if values:
            result[f"{name}_p50"] = round(common.percentile(values, 50), 3)
            result[f"{name}_max"] = round(max(values), 3)
    return result


def overhead(args: Any) -> dict[str, Any]:
    world = {
        "seed": 11, "markets": 60, "wallets": args.whales, "history_days": 14.0,
        "clock_speed": 0.0, "start_time": common.FROZEN_START, "world_start": common.FROZEN_START,
    }  # fmt: skip
    with common.workdir("orch") as tmp:
        with common.simulator(rate_limit=0, **world) as twin:
            env = environment(tmp, twin, args.dagster_yaml)
            stored = backfill(env, twin.base_url, 5000.0)
        faults = dict(common.LATENCY)
        with common.simulator(rate_limit=common.API_LIMIT, faults=faults, **world) as sim:
            env.update(
                OPINION_API_BASE_URL=sim.base_url, OPINION_LEADERBOARD_URL=sim.leaderboard_url
            )
            common.say(f"overhead: {args.whales} whales backfilled ({stored} trades); daemon up")
            # The instance's storage is created here, before the daemon starts: two processes
            # creating a fresh SQLite instance at once race on its tables.
            instance = _instance(env)
            daemon = Daemon(env, tmp / "daemon.log")
            try:
                if args.quick:
                    runs = _wait_runs(instance, 1, 120, scheduled=False)
                else:
                    runs = _wait_runs(instance, args.ticks, 60 * (args.ticks + 5), scheduled=True)
                    runs = runs[: args.ticks]
            finally:
                daemon.stop()
    for run in runs:
        common.say(f"  run: {run}")
    partial = [run["run_id"] for run in runs if run["whales_polled"] != args.whales]
    if partial:
        common.say(f"  WARNING: runs that did not poll all {args.whales} whales: {partial}")
    summary = _summary(runs)
    return {"whales": args.whales, "scheduled": not args.quick, "partial_runs": partial, **summary}


def _latencies(sim: Any, env: dict[str, str], window: tuple[int, int]) -> dict[str, Any]:
    """ingested_at - createdAt for every trade the simulator showed in ``window``."""
    import duckdb

    truth = [
        (row["walletAddress"], row["txHash"].lower(), int(row["createdAt"]))
        for row in sim.truth_trades()
        if window[0] <= int(row["createdAt"]) < window[1]
    ]
    path = Path(env["OPINION_DATA_DIR"]) / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as conn:
        stored = conn.execute(
            "SELECT wallet, tx_hash, CAST(epoch(created_at) AS BIGINT), "
            "min(epoch(ingested_at)) FROM trades WHERE created_at >= to_timestamp(?) "
            "GROUP BY ALL",
            [window[0]],
        ).fetchall()
    ingested = {(w, tx, created): at for w, tx, created, at in stored}
    latencies = [ingested.get(key, float("inf")) - key[2] for key in set(truth)]
    missing = sum(1 for value in latencies if value == float("inf"))
    finite = [value for value in latencies if value != float("inf")]
    return {
        "samples": len(latencies),
        "missing": missing,
        "p50_s": round(common.percentile(latencies, 50), 1) if latencies else None,
        "p95_s": round(common.percentile(latencies, 95), 1) if latencies else None,
        "max_s": round(max(finite), 1) if finite else None,
        "latencies_s": sorted(round(value, 1) for value in finite),  # to pool several runs
    }


def freshness(args: Any) -> dict[str, Any]:
    start = int(time.time())
    world = {
        "seed": 13, "markets": 60, "wallets": args.fresh_whales, "history_days": 1.0,
        "clock_speed": 1.0, "start_time": start, "world_start": start,
    }  # fmt: skip
    faults = dict(common.LATENCY)
    with (
        common.workdir("fresh") as tmp,
        common.simulator(rate_limit=common.API_LIMIT, faults=faults, **world) as sim,
    ):
        env = environment(tmp, sim, args.dagster_yaml)
        stored = backfill(env, sim.base_url, 14.4)
        daemon = Daemon(env, tmp / "daemon.log")
        opened = int(sim.clock()["now"])
        common.say(f"freshness: {args.fresh_whales} whales ({stored} trades); daemon up")
        try:
            time.sleep(args.minutes * 60)
            closed = int(sim.clock()["now"]) - 75  # later trades may not have had their tick
            time.sleep(80)
            runs = finished_runs(_instance(env), scheduled=True)
        finally:
            daemon.stop()
        result = _latencies(sim, env, (opened, closed))
    common.say(f"  trade -> warehouse: {result}")
    return {
        "whales": args.fresh_whales, "minutes": args.minutes, "window_s": closed - opened,
        **result, "runs": _summary(runs),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = common.parser(__doc__.splitlines()[0])
    parser.add_argument("--phase", choices=("overhead", "freshness", "both"), default="both")
    parser.add_argument("--ticks", type=int, default=10, help="scheduled runs timed (overhead)")
    parser.add_argument("--whales", type=int, default=30, help="whales in the overhead phase")
    parser.add_argument("--fresh-whales", type=int, default=200, help="whales (freshness)")
    parser.add_argument("--minutes", type=float, default=7.0, help="freshness window")
    parser.add_argument(
        "--dagster-yaml",
        type=Path,
        default=ROOT / "dagster.yaml",
        help="instance config to test (default: the project's)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.phase, args.whales = "overhead", 5
    figures: dict[str, Any] = {"machine": common.machine()}
    if args.phase in ("overhead", "both"):
        figures["overhead"] = overhead(args)
        common.say(
            f"tick -> finished run (nothing new, {args.whales} whales): p50 "
            f"{figures['overhead'].get('tick_to_end_s_p50')} s over {figures['overhead']['n']} runs"
        )
    if args.phase in ("freshness", "both"):
        figures["freshness"] = freshness(args)
        fresh = figures["freshness"]
        common.say(
            f"trade -> warehouse: p50 {fresh['p50_s']} s, p95 {fresh['p95_s']} s "
            f"({fresh['samples']} trades, {fresh['missing']} missing)"
        )
    common.emit("orchestration", figures)
    return figures


if __name__ == "__main__":
    main()
