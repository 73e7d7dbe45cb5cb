"""One real deployment shared by the UI tests: simulator, ``dagster-webserver``, ``dagster-daemon``.

It is what a user runs (the project's workspace.yaml and dagster.yaml, the first-run sensor, the
schedules on by default), on loopback, with every path in a temp dir. Each process starts in a
session of its own and is stopped by its process group; anything still carrying this
deployment's DAGSTER_HOME afterwards (a run worker, a code server) is killed too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests

from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.conftest import SMALL_WORLD, distinctive_key, write_whales_file
from opinion_pipeline_tests.processes import free_port, wait_for
from opinion_pipeline_tests.ui.graphql_api import UIClient

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIRST_DATA = ("markets", "whale_trades", "whale_activity", "whale_stats")
START_TIMEOUT_S = 90.0
# About 60 s on an idle 2-core machine; CI once needed more than 150 s with the other test worker
# busy (every first run starts a worker process on the same two cores).
FIRST_DATA_TIMEOUT_S = 300.0


def processes_with_env(name: str, value: str) -> list[int]:
    """Pids whose environment has ``name=value`` (Linux /proc; [] elsewhere)."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


def stop_group(process: subprocess.Popen | None, grace_s: float = 10.0) -> None:
    """SIGTERM the process group (graceful shutdown), SIGKILL it if it lingers, reap."""
    if process is None:
        return
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait_s)
            if sig == signal.SIGKILL:
                break
        except subprocess.TimeoutExpired:
            continue
    # The leader has exited; its children (code server) may still be in the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(10)


class DagsterDeployment:
    """The webserver and the daemon on one temp DAGSTER_HOME, against a simulator."""

    def __init__(self, root: Path, simulator: SimulatorProcess, api_key: str) -> None:
        self.root = root
        self.home = root / "dagster_home"
        self.logs = root / "logs"
        self.simulator = simulator
        self.api_key = api_key
        self.port = free_port()
        self.workspace = REPO_ROOT / "workspace.yaml"
        self.webserver: subprocess.Popen | None = None
        self.daemon: subprocess.Popen | None = None
        self.client = UIClient("127.0.0.1", self.port)
        self.escaped: dict[int, str] = {}  # processes the group kills missed, for diagnosis

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        for folder in (self.home, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        write_whales_file(self.whales_file, self.simulator.wallets())
        # Create the SQLite storage first: a webserver and a daemon starting together on an
        # empty DAGSTER_HOME race to create the same tables, and one of them dies.
        instance = dg.DagsterInstance.from_config(str(self.home))
        try:
            instance.get_runs(limit=1)
            instance.all_instigator_state()
        finally:
            instance.dispose()

    @property
    def whales_file(self) -> Path:
        return self.root / "whales.csv"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # No alert channel of the user's shell: the UI tests must not message anyone.
        for name in (
            "OPINION_WAREHOUSE_PATH",
            "OPINION_ARCHIVE_DIR",
            "OPINION_ALERT_URLS",
            "OPINION_ALERT_WEBHOOK_URL",
        ):
            env.pop(name, None)
        env.update(
            {
                "DAGSTER_HOME": str(self.home),
                "OPINION_API_KEY": self.api_key,
                "OPINION_API_BASE_URL": self.simulator.base_url,
                "OPINION_LEADERBOARD_URL": self.simulator.leaderboard_url,
                "OPINION_DATA_DIR": str(self.root / "data"),
                "OPINION_WHALES_FILE": str(self.whales_file),
                "OPINION_RATE_LIMIT_DIR": str(self.root / "limiter"),
            }
        )
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (lives as long as the process)
        try:
            return subprocess.Popen(
                args, cwd=REPO_ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        finally:
            log.close()  # the child holds its own copy

    def start_webserver(self) -> None:
        self.webserver = self._spawn(
            "webserver",
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port),
             "-w", str(self.workspace)],
        )  # fmt: skip

    def start_daemon(self) -> None:
        self.daemon = self._spawn(
            "daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(self.workspace)]
        )

    def wait_ready(self) -> None:
        """The UI answers, the code location has loaded, and every daemon is healthy."""

        def serving() -> bool:
            if self.webserver is not None and self.webserver.poll() is not None:
                raise RuntimeError(f"webserver exited:\n{self.log_tail('webserver')}")
            try:
                return requests.get(f"{self.url}/server_info", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(serving, START_TIMEOUT_S, "the webserver to serve")
        wait_for(self.client.location_loaded, START_TIMEOUT_S, "the code location to load")

        def daemons_healthy() -> bool:
            if self.daemon is not None and self.daemon.poll() is not None:
                raise RuntimeError(f"daemon exited:\n{self.log_tail('daemon')}")
            statuses = self.client.daemon_health()
            return bool(statuses) and all(statuses.values())

        wait_for(daemons_healthy, START_TIMEOUT_S, "every daemon to report healthy")

    def restart_webserver(self) -> None:
        """Stop the webserver gracefully and start it again on the same port."""
        stop_group(self.webserver)
        self.start_webserver()
        self.wait_ready()

    def stop(self) -> None:
        stop_group(self.webserver)
        stop_group(self.daemon, grace_s=15.0)
        # Whatever escaped the groups (a run worker in a session of its own): kill until gone.
        self.escaped = self.leftovers()
        deadline = time.monotonic() + 15.0
        while (left := self.leftovers()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)

    def leftovers(self) -> dict[int, str]:
        """Live processes of this deployment (its DAGSTER_HOME in their environment)."""
        found = {}
        for pid in processes_with_env("DAGSTER_HOME", str(self.home)):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if cmdline:  # a zombie has none: it is dead, only not yet reaped
                found[pid] = cmdline.decode(errors="replace")[:200]
        return found

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="package")
def ui_simulator() -> Iterator[tuple[SimulatorProcess, str]]:
    key = distinctive_key()
    with SimulatorProcess(key, **SMALL_WORLD) as sim:
        yield sim, key


@pytest.fixture(scope="package")
def dagster_ui(
    tmp_path_factory: pytest.TempPathFactory, ui_simulator: tuple[SimulatorProcess, str]
) -> Iterator[DagsterDeployment]:
    """A running webserver + daemon, shared by every UI test (starting them takes ~15 s)."""
    simulator, key = ui_simulator
    deployment = DagsterDeployment(tmp_path_factory.mktemp("dagster_ui"), simulator, key)
    deployment.prepare()
    try:
        deployment.start_daemon()
        deployment.start_webserver()
        deployment.wait_ready()
        yield deployment
    finally:
        deployment.stop()
    assert not deployment.leftovers(), f"processes left running: {deployment.leftovers()}"


@pytest.fixture(scope="package")
def ui_with_data(dagster_ui: DagsterDeployment) -> DagsterDeployment:
    """The deployment once the first-run sensor has filled it, as a new user would see it."""
    try:
        wait_for(
            lambda: all(dagster_ui.client.latest_materialization(name) for name in FIRST_DATA),
            FIRST_DATA_TIMEOUT_S,
            f"first materializations of {', '.join(FIRST_DATA)}",
            interval_s=2.0,
        )
    except TimeoutError as error:
        runs = dagster_ui.client.runs()
        raise AssertionError(f"{error}; runs: {runs}\n{dagster_ui.log_tail('daemon')}") from None
    return dagster_ui
