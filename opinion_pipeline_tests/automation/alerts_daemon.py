"""A real Dagster deployment in a temp dir: code server, ``dagster-daemon run``, CLI launches.

The instance config is the project's own ``dagster.yaml`` with only the polling intervals
shortened, so the tests exercise the run monitoring and run queue settings that ship.
Every process is started in its own session and stopped by its process group at teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from opinion_pipeline_tests.automation import alerts_workspace
from opinion_pipeline_tests.processes import free_port, wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POLL_S = 0.2  # how often the waits below look again (runs and heartbeats change fast)


def instance_config() -> dict[str, Any]:
    """The shipped dagster.yaml, polling every second instead of every 30."""
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1
    config["run_monitoring"]["poll_interval_seconds"] = 1
    return config


class DaemonStack:
    """Code server + daemon sharing a temp DAGSTER_HOME, alerts going to ``webhook_url``."""

    def __init__(self, root: Path, webhook_url: str) -> None:
        self.root = root
        self.home = root / "dagster_home"
        self.pid_dir = root / "pids"
        self.logs = root / "logs"
        self.webhook_url = webhook_url
        self.port = free_port()
        self.workspace = root / "workspace.yaml"
        self.code_server: subprocess.Popen | None = None
        self.daemon: subprocess.Popen | None = None
        self._groups: list[int] = []
        self.instance: dg.DagsterInstance | None = None

    # ------------------------------------------------------------------ lifecycle

    def prepare(self) -> dg.DagsterInstance:
        for folder in (self.home, self.pid_dir, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        (self.home / "dagster.yaml").write_text(yaml.safe_dump(instance_config()))
        location = {
            "host": "127.0.0.1",
            "port": self.port,
            "location_name": alerts_workspace.LOCATION,
        }
        self.workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": location}]}))
        self.instance = dg.DagsterInstance.from_config(str(self.home))
        return self.instance

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DAGSTER_HOME": str(self.home),
                # apprise's generic JSON webhook at the receiver
                "OPINION_ALERT_URLS": self.webhook_url.replace("http://", "json://", 1),
                "OPINION_UI_BASE_URL": "http://ui.test:3000",
                alerts_workspace.PID_DIR_ENV: str(self.pid_dir),
                "FRESHNESS_DAEMON_INTERVAL_SECONDS": "1",
            }
        )
        env.pop("OPINION_ALERT_WEBHOOK_FORMAT", None)
        env.pop("OPINION_ALERT_WEBHOOK_URL", None)
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (lives as long as the process)
        process = subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._groups.append(process.pid)
        return process

    def start_code_server(self) -> None:
        self.code_server = self._spawn(
            "code_server",
            [
                str(BIN / "dagster"),
                "api",
                "grpc",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "-f",
                alerts_workspace.__file__,
                "-d",
                str(REPO_ROOT),
            ],
        )

        def listening() -> bool:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(listening, 30, "the code server to listen", POLL_S)

    def start_daemon(self) -> None:
        self.daemon = self._spawn(
            "daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(self.workspace)]
        )
        instance = self.require_instance()
        wanted = {"SENSOR", "QUEUED_RUN_COORDINATOR", "FRESHNESS_DAEMON"}
        wait_for(
            lambda: wanted <= set(instance.get_daemon_heartbeats()), 45, "daemon heartbeats", POLL_S
        )

    def tick_count(self, sensor_name: str) -> int:
        """Evaluations of a sensor so far (skips included)."""
        instance = self.require_instance()
        for state in instance.all_instigator_state():
            if state.name == sensor_name:
                return len(instance.get_ticks(state.instigator_origin_id, state.selector_id))
        return 0

    def kill_code_server(self) -> None:
        """SIGKILL the code server alone (its run workers live on, orphaned)."""
        assert self.code_server is not None
        self.code_server.kill()
        self.code_server.wait(10)

    def stop(self) -> None:
        """SIGTERM the daemon (it stops its threads cleanly), then SIGKILL what is left."""
        if self.daemon is not None and self.daemon.poll() is None:
            os.killpg(self.daemon.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.daemon.wait(15)
        for pgid in self._groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        for process in (self.daemon, self.code_server):
            if process is not None:
                process.wait(15)
        if self.instance is not None:
            self.instance.dispose()

    # ---------------------------------------------------------------------- runs

    def require_instance(self) -> dg.DagsterInstance:
        assert self.instance is not None, "prepare() first"
        return self.instance

    def launch_nap(self, seconds: float, tags: dict[str, str] | None = None) -> str:
        """Queue a run through the CLI; the daemon dequeues and launches it."""
        run_id = str(uuid.uuid4())
        config = {"ops": {"alerts_nap": {"config": {"seconds": seconds}}}}
        subprocess.run(
            [
                str(BIN / "dagster"),
                "job",
                "launch",
                "-w",
                str(self.workspace),
                "-j",
                alerts_workspace.NAP_JOB,
                "--run-id",
                run_id,
                "--config-json",
                json.dumps(config),
                "--tags",
                json.dumps(tags or {}),
            ],
            cwd=REPO_ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        return run_id

    def run(self, run_id: str) -> dg.DagsterRun:
        run = self.require_instance().get_run_by_id(run_id)
        assert run is not None, f"no run {run_id}"
        return run

    def wait_finished(self, run_id: str, timeout_s: float) -> dg.DagsterRun:
        return wait_for(
            lambda: self.run(run_id) if self.run(run_id).is_finished else None,
            timeout_s,
            f"run {run_id} to finish",
            POLL_S,
        )

    def worker_pid(self, run_id: str, timeout_s: float = 30) -> int:
        path = self.pid_dir / f"{run_id}.pid"
        wait_for(path.exists, timeout_s, f"run {run_id} to start its op", POLL_S)
        return int(path.read_text())

    def messages(self, run_id: str, of_type: dg.DagsterEventType | None = None) -> list[str]:
        logs = self.require_instance().all_logs(run_id, of_type=of_type)
        return [entry.message for entry in logs]

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
