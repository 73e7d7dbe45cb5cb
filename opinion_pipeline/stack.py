"""The processes ``scripts/start`` runs, and what it does before starting them.

The same topology as a server's (README, "Running on a server"): ``dagster code-server start``
serves the definitions on a loopback port, and ``dagster-daemon run`` and ``dagster-webserver``
load them from it through a generated workspace file, each a supervised process of its own.

Before starting, with the instance's stack lock held (a second ``scripts/start`` on the same
instance is refused): the temp directory the last start gave its processes is emptied (a
crashed stack leaves sockets and temp files there; it is this stack's own, so nothing else is
touched), and runs orphaned by a crash are failed at once with their cause.
"""

from __future__ import annotations

import fcntl
import shutil
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import yaml

from opinion_pipeline.automation.alerts import AlertSettings
from opinion_pipeline.config import Settings
from opinion_pipeline.supervisor import Child, Supervisor

BIN = Path(sys.executable).parent
LOCATION = "opinion_pipeline.definitions"  # the name workspace.yaml gives it: schedule state keeps
STATE_DIR = ".stack"


class StackBusy(Exception):
    """Another scripts/start runs on this Dagster instance."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@contextmanager
def stack_lock(home: Path) -> Iterator[Path]:
    """Hold ``$DAGSTER_HOME/.stack/lock``; yields the state directory. Raises StackBusy."""
    state = home / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(state / "lock", "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StackBusy(f"another scripts/start is running on the instance {home}") from None
        yield state
    finally:
        handle.close()


def fresh_temp_dir(state: Path) -> tuple[Path, int]:
    """Empty this stack's temp directory (what the last, maybe crashed, start left there).

    Returns it and how many entries were removed; only the stack's own directory is touched.
    """
    temp = state / "tmp"
    removed = sum(1 for _ in temp.rglob("*")) if temp.exists() else 0
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True, exist_ok=True)
    return temp, removed


def write_workspace(state: Path, port: int) -> Path:
    workspace = state / "workspace.yaml"
    location = {"host": "127.0.0.1", "port": port, "location_name": LOCATION}
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": location}]}))
    return workspace


def children(
    root: Path, workspace: Path, code_port: int, ui_host: str, ui_port: int
) -> list[Child]:
    """Code server first (the others load from it), then the daemon and the webserver."""
    dagster = str(BIN / "dagster")
    code_server = [
        dagster, "code-server", "start", "-h", "127.0.0.1", "-p", str(code_port),
        "-m", LOCATION, "-d", str(root), "--location-name", LOCATION,
    ]  # fmt: skip
    daemon = [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)]
    webserver = [
        str(BIN / "dagster-webserver"), "-h", ui_host, "-p", str(ui_port), "-w", str(workspace)
    ]  # fmt: skip
    ui_probe = "127.0.0.1" if ui_host in ("0.0.0.0", "::", "") else ui_host
    return [
        Child("code server", code_server, ready=lambda: listening("127.0.0.1", code_port)),
        Child("daemon", daemon),
        Child("webserver", webserver, ready=lambda: listening(ui_probe, ui_port)),
    ]


def fail_orphans(home: Path, env: Mapping[str, str]) -> list[str]:
    """Fail the runs a crash left STARTED; lines to print."""
    import dagster as dg

    from opinion_pipeline.automation.run_workers import fail_orphaned_runs

    with dg.DagsterInstance.from_config(str(home)) as instance:
        failed = fail_orphaned_runs(instance, at_start=True, by="scripts/start on start-up")
        queued = len(instance.get_run_ids(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])))
    lines = [f"failed orphaned run {o.run_id} of {o.job_name}: {o.message}" for o in failed]
    if queued:
        lines.append(f"{queued} run(s) queued before the last stop start now")
    return lines


def run_stack(
    root: Path, home: Path, env: Mapping[str, str], settings: Settings, host: str, port: int
) -> int:
    """Prepare (lock, temp dir, orphans), then supervise the three processes until stopped."""
    try:
        with stack_lock(home) as state:
            temp, removed = fresh_temp_dir(state)
            if removed:
                print(f"scripts/start: removed {removed} leftover(s) of the last start", flush=True)
            for line in fail_orphans(home, env):
                print(f"scripts/start: {line}", flush=True)
            code_port = free_port()
            workspace = write_workspace(state, code_port)
            # The sensors' alert links follow where the UI really is (--host/--port included).
            child_env = {**env, "TMPDIR": str(temp), "OPINION_UI_HOST": host}
            child_env["OPINION_UI_PORT"] = str(port)
            alerts = AlertSettings.from_settings(
                settings.model_copy(update={"ui_host": host, "ui_port": port})
            )
            supervisor = Supervisor(
                children(root, workspace, code_port, host, port),
                env=child_env,
                cwd=root,
                alerts=alerts,
            )
            return supervisor.run()
    except StackBusy as busy:
        print(f"scripts/start: {busy}; stop it first", file=sys.stderr)
        return 2
