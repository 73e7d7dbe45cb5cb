"""scripts/start's launcher: simulator mode, loopback, and a clean stop from the background."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from opinion_pipeline.config import load_settings
from opinion_pipeline.stack import children
from opinion_pipeline_tests.pipeline.helpers import ROOT
from opinion_pipeline_tests.processes import free_port


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job of a script gets it


@pytest.mark.unit
def test_every_process_binds_loopback_by_default(tmp_path):
    settings = load_settings()
    processes = children(ROOT, tmp_path / "workspace.yaml", 4000, settings.ui_host, 3000)
    assert [child.name for child in processes] == ["code server", "daemon", "webserver"]
    for child in processes:
        if "-h" in child.argv:
            assert child.argv[child.argv.index("-h") + 1] == "127.0.0.1", child.name


@pytest.mark.timeout(240)
def test_background_launcher_serves_the_simulator_and_stops_cleanly_on_sigterm(tmp_path):
    ui_port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPINION_", "DAGSTER_"))
    }
    env.update(
        OPINION_DATA_DIR=str(tmp_path / "data"),
        DAGSTER_HOME=str(tmp_path / "home"),
        OPINION_RATE_LIMIT_DIR=str(tmp_path / "limiter"),
    )
    log = open(tmp_path / "launcher.log", "w+")  # noqa: SIM115 - read after the process ends
    launcher = subprocess.Popen(
        [sys.executable, "-m", "opinion_pipeline.launcher", "--port", str(ui_port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_ignore_sigint,
    )
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{ui_port}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(1)
        else:
            pytest.fail(
                "the UI did not answer in time:\n" + (tmp_path / "launcher.log").read_text()
            )
        output = (tmp_path / "launcher.log").read_text()
        assert "SIMULATOR" in output and "OPINION_API_KEY is not set" in output
        simulator_port = int(re.search(r"http://127\.0\.0\.1:(\d+)/openapi", output).group(1))
        assert _port_open(simulator_port)
        assert (tmp_path / "data" / ".simulator" / "world-start").exists()

        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=90) == 0
        assert not _port_open(ui_port), "the UI stopped"
        assert not _port_open(simulator_port), "the simulator stopped after the UI"
    finally:
        if launcher.poll() is None:
            launcher.kill()
        log.close()


@pytest.mark.timeout(240)
def test_ctrl_c_is_a_normal_stop_and_the_banner_names_every_file(tmp_path):
    """As in a terminal: the launcher leads its process group and Ctrl-C reaches all of it."""
    ui_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPINION_", "DAGSTER_"))}
    env.update(
        OPINION_DATA_DIR=str(tmp_path / "data"),
        DAGSTER_HOME=str(tmp_path / "home"),
        OPINION_RATE_LIMIT_DIR=str(tmp_path / "limiter"),
    )
    log = open(tmp_path / "launcher.log", "w+")  # noqa: SIM115 - read after the process ends
    launcher = subprocess.Popen(
        [sys.executable, "-m", "opinion_pipeline.launcher", "--port", str(ui_port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{ui_port}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(1)
        else:
            pytest.fail("no UI in time:\n" + (tmp_path / "launcher.log").read_text())
        registry = tmp_path / "data" / "whales.csv"
        output = (tmp_path / "launcher.log").read_text()
        assert "Mode:        simulator" in output
        assert f"Registry:    {registry}" in output
        assert f"Warehouse:   {tmp_path / 'data' / 'warehouse.duckdb'}" in output
        assert "warehouse-query --tables" in output
        assert f"Alert links: http://127.0.0.1:{ui_port}/runs/" in output  # follows --port
        assert registry.exists() and registry.read_text().count("\n0x") == 30
        assert "SupersessionWarning" not in output, "the dagster dev notice is filtered"
        # run from the project root (its dagster.yaml) with DAGSTER_HOME elsewhere, as a user does
        assert "Found a dagster instance configuration" not in output
        assert "will not be used to configure Dagster" not in output
        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert launcher.wait(timeout=90) == 0, (tmp_path / "launcher.log").read_text()[-2000:]
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        log.close()
