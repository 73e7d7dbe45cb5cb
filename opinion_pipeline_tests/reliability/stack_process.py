"""``scripts/start``'s launcher as a real process group in a temp dir (simulator mode).

The launcher runs in a session of its own, so a test can SIGKILL the whole process group
(launcher, code server, daemon, webserver, run workers, simulator) as a crash of the machine's
session would, and start it again on the same instance and data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import requests

from opinion_pipeline.launcher import SIMULATOR_WALLETS
from opinion_pipeline_tests.processes import free_port, wait_for
from opinion_pipeline_tests.reliability.dagster_cli import ROOT


class LauncherProcess:
    def __init__(
        self, root: Path, webhook_url: str, extra_env: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.extra_env = dict(extra_env or {})
        self.home = root / "home"
        self.ui_port = free_port()
        self.webhook_url = webhook_url
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def env(self) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("OPINION_", "DAGSTER_"))
        }
        env.update(
            OPINION_DATA_DIR=str(self.root / "data"),
            DAGSTER_HOME=str(self.home),
            OPINION_RATE_LIMIT_DIR=str(self.root / "limiter"),
            OPINION_ALERT_WEBHOOK_URL=self.webhook_url,
        )
        env.update(self.extra_env)
        return env

    def small_registry(self, wallets: int) -> None:
        """Track only the first ``wallets`` active simulated whales: a history sync of seconds."""
        rows = [
            line
            for line in SIMULATOR_WALLETS.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith(("#", "address")) and "inactive" not in line
        ]
        registry = self.root / "data" / "whales.csv"
        registry.parent.mkdir(parents=True, exist_ok=True)
        registry.write_text("address,label,tags\n" + "\n".join(rows[:wallets]) + "\n")

    @property
    def log_path(self) -> Path:
        return self.root / f"launcher-{self.starts}.log"

    def start(self) -> float:
        """Start it; returns the monotonic time of the start."""
        self.starts += 1
        log = open(self.log_path, "w")  # noqa: SIM115 - the child holds it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "opinion_pipeline.launcher", "--port", str(self.ui_port)],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return time.monotonic()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ui(self, timeout_s: float = 150) -> None:
        def answers() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{self.ui_port}/server_info", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(answers, timeout_s, "the UI to answer", 0.5)

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def pids(self, needle: str) -> list[int]:
        """Processes of this stack whose command line contains ``needle``."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if needle in cmdline and str(self.home).encode() in environ:
                found.append(int(entry.name))
        return found

    def kill_group(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout_s: float = 90) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            return None

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop(30)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
