"""The server topology of deploy/systemd/ on PostgreSQL: three separate long-running processes.

``dagster code-server start`` serves the definitions, ``dagster-daemon run`` and
``dagster-webserver`` load them from its gRPC port (a workspace like deploy/workspace.yaml), and
the instance is deploy/postgres/dagster.yaml on a fresh database of the machine's PostgreSQL.
The daemon must launch a whale sync through the code server and see it succeed.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
from pathlib import Path

import dagster as dg
import pytest
import requests

from opinion_pipeline.launcher import SIMULATOR_WALLETS
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline.stack import children, listening, write_workspace
from opinion_pipeline_tests.postgres import temporary_database
from opinion_pipeline_tests.processes import free_port, wait_for
from opinion_pipeline_tests.reliability.dagster_cli import ROOT, clean_env

SYNC = "sync_whale_trades"


def _registry(path: Path, wallets: int) -> Path:
    rows = [
        line
        for line in SIMULATOR_WALLETS.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith(("#", "address")) and "inactive" not in line
    ]
    path.write_text("address,label,tags\n" + "\n".join(rows[:wallets]) + "\n")
    return path


@pytest.mark.postgres
@pytest.mark.e2e
@pytest.mark.timeout(150)
def test_daemon_webserver_and_code_server_as_services_on_postgres_run_a_sync(tmp_path, monkeypatch):
    with (
        temporary_database() as pg,
        SimulatorProcess("sim-topology-key", clock_speed=1.0) as simulator,
    ):
        for name, value in pg.items():  # this process reads the instance too
            monkeypatch.setenv(name, value)
        home = tmp_path / "home"
        home.mkdir()
        shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
        env = clean_env(
            home,
            **pg,
            OPINION_API_KEY="sim-topology-key",
            OPINION_API_BASE_URL=simulator.base_url,
            OPINION_LEADERBOARD_URL=simulator.leaderboard_url,
            OPINION_MODE="simulator",
            OPINION_DISCOVERY="off",
            OPINION_DATA_DIR=str(tmp_path / "data"),
            OPINION_RATE_LIMIT_DIR=str(tmp_path / "limiter"),
            OPINION_WHALES_FILE=str(_registry(tmp_path / "whales.csv", 3)),
        )
        code_port, ui_port = free_port(), free_port()
        workspace = write_workspace(tmp_path, code_port)
        processes: list[subprocess.Popen] = []
        try:
            for child in children(ROOT, workspace, code_port, "127.0.0.1", ui_port):
                log = open(tmp_path / f"{child.name.replace(' ', '-')}.log", "w")  # noqa: SIM115
                processes.append(
                    subprocess.Popen(
                        child.argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
                log.close()
                if child.name == "code server":
                    wait_for(lambda: listening("127.0.0.1", code_port), 60, "the code server")
            assert [p.args[0].rsplit("/", 1)[-1] for p in processes] == [
                "dagster",
                "dagster-daemon",
                "dagster-webserver",
            ]

            def ui_answers() -> bool:
                with contextlib.suppress(requests.RequestException):
                    url = f"http://127.0.0.1:{ui_port}/server_info"
                    return requests.get(url, timeout=2).ok
                return False

            wait_for(ui_answers, 60, "the webserver")
            with dg.DagsterInstance.from_config(str(home)) as instance:
                assert "Postgres" in type(instance.run_storage).__name__

                def finished() -> dg.DagsterRun | None:
                    for record in instance.get_run_records(dg.RunsFilter(job_name=SYNC), limit=5):
                        if record.dagster_run.is_finished:
                            return record.dagster_run
                    return None

                run = wait_for(finished, 90, "a whale sync launched by the daemon to finish", 1)
                assert run.status == dg.DagsterRunStatus.SUCCESS, (
                    tmp_path / "daemon.log"
                ).read_text()
                assert run.tags.get("dagster/sensor_name") or run.tags.get("dagster/schedule_name")
                event = instance.get_latest_materialization_event(dg.AssetKey("whale_trades"))
                assert event is not None
                assert event.asset_materialization.metadata["new_rows"].value > 0
            assert all(p.poll() is None for p in processes)  # still up: long-running services
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for process in reversed(processes):
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
