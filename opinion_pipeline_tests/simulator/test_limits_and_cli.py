"""Rate limit and counters, the command line, whales.csv, and keeping the key secret."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from opinion_pipeline.defs.whale_registry.registry_file import parse_whales
from opinion_pipeline.simulator import WHALES_CSV, SimulatorError, SimulatorProcess
from opinion_pipeline_tests.simulator.helpers import API_KEY

FINGERPRINT = "sha256:" + hashlib.sha256(API_KEY.encode()).hexdigest()[:12]


def test_rate_limit_429_and_counters(new_sim: Callable[..., SimulatorProcess]):
    sim = new_sim(rate_limit=5)
    session = requests.Session()
    session.headers["apikey"] = API_KEY
    responses = [session.get(f"{sim.base_url}/market", timeout=5) for _ in range(12)]
    statuses = [response.status_code for response in responses]
    assert statuses[:5] == [200] * 5, "a burst up to the bucket capacity passes"
    assert 429 in statuses and set(statuses) == {200, 429}
    limited = next(response for response in responses if response.status_code == 429)
    assert limited.headers["Retry-After"] == "1" and limited.json()["errno"] == 429
    time.sleep(1.1)
    assert session.get(f"{sim.base_url}/market", timeout=5).status_code == 200, "bucket refills"
    statuses.append(200)
    requests.get(f"{sim.base_url}/market", headers={"apikey": "nope"}, timeout=5)

    counters = sim.counters()
    text = str(counters)
    assert API_KEY not in text and "nope" not in text
    mine = counters["by_key"][FINGERPRINT]
    assert mine["requests"] == 13 and mine["rate_limited"] == statuses.count(429)
    assert mine["ok"] == statuses.count(200)
    assert counters["total"]["unauthorized"] == 1 and counters["total"]["requests"] == 14
    assert counters["by_route"]["/openapi/market"]["requests"] == 14
    assert sim.reset_counters()["total"]["requests"] == 0


def test_whales_csv_matches_the_cli_and_parses():
    printed = subprocess.run(
        [sys.executable, "-m", "opinion_pipeline.simulator", "--print-whales-csv"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    assert WHALES_CSV.read_text(encoding="utf-8") == printed
    assert printed.startswith("#") and "simulator" in printed.splitlines()[0]
    whales = parse_whales(printed)
    assert len(whales) == 30
    assert {w.tags[0] for w in whales} == {"heavy", "light", "inactive"}
    assert all(w.label.startswith(f"sim-{w.tags[0]}-") for w in whales)


def test_whales_csv_lists_the_default_worlds_wallets(frozen_sim: SimulatorProcess):
    whales = parse_whales(WHALES_CSV.read_text(encoding="utf-8"))
    served = frozen_sim.wallets()
    assert [(w.address, w.label, w.tags[0]) for w in whales] == [
        (w["address"], w["label"], w["profile"]) for w in served
    ]


def test_key_never_in_argv_output_or_stderr(new_sim: Callable[..., SimulatorProcess]):
    sim = new_sim()
    cmdline = Path(f"/proc/{sim.pid}/cmdline").read_bytes().decode()
    assert API_KEY not in cmdline
    requests.get(f"{sim.base_url}/market", headers={"apikey": "wrong"}, timeout=5)
    sim.set_faults(error_rate=0.5)
    assert sim.stop() == 0, "SIGTERM ends it cleanly"
    assert API_KEY not in sim.stderr() and "wrong" not in sim.stderr()
    assert API_KEY not in repr(sim)


def test_cli_prints_one_line_and_stops_on_sigint(tmp_path: Path):
    env = {**os.environ, "OPINION_SIMULATOR_API_KEY": API_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "opinion_pipeline.simulator", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        assert line.startswith("Opinion API simulator serving http://127.0.0.1:")
        assert line.rstrip().endswith("/openapi")
        base = line.split()[-1]
        assert requests.get(f"{base}/market", headers={"apikey": API_KEY}, timeout=5).ok
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert out == "" and err == ""


def test_cli_rejects_bad_arguments():
    def run(*args: str, key: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "OPINION_SIMULATOR_API_KEY"}
        if key:
            env["OPINION_SIMULATOR_API_KEY"] = API_KEY
        command = [sys.executable, "-m", "opinion_pipeline.simulator", "--port", "0", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=30)

    assert "API key" in run(key=False).stderr
    assert "nonsense" in run("--faults", '{"nonsense": 1}').stderr
    assert run("--faults", "{not json").returncode == 2


def test_process_reports_a_child_that_dies():
    with pytest.raises(SimulatorError, match="exited with code 2"):
        SimulatorProcess(API_KEY, extra_args=["--markets", "0"]).start()
