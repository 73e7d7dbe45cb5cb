"""Run the simulator in a child process for tests, benchmarks and the demo, and control it.

The key travels to the child in OPINION_SIMULATOR_API_KEY, never in argv (argv shows in ``ps``),
and the child binds loopback on a free port that is read back from its one stdout line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import requests

from opinion_pipeline.simulator.api import LEADERBOARD_PATH
from opinion_pipeline.simulator.util import API_KEY_ENV

READY_LINE = re.compile(r"Opinion API simulator serving (http://\S+)/openapi")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


class SimulatorError(RuntimeError):
    """The simulator did not start, or a control request failed."""


class SimulatorControl:
    """Client of the /_sim routes of a running simulator (no API key involved)."""

    def __init__(self, root_url: str, timeout: float = 30.0) -> None:
        self._root_url = root_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()

    @property
    def root_url(self) -> str:
        return self._root_url

    def _call(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        response = self._session.request(
            method, f"{self.root_url}/_sim/{route}", json=body, timeout=self._timeout
        )
        if response.status_code != 200:
            raise SimulatorError(
                f"{method} /_sim/{route}: HTTP {response.status_code} {response.text}"
            )
        return response.json()

    def info(self) -> dict[str, Any]:
        return self._call("GET", "")

    def truth_markets(self) -> list[dict[str, Any]]:
        """Every market visible now, canonical and unfaulted, children nested."""
        return self._call("GET", "truth/markets")["markets"]

    def truth_trades(
        self, wallet: str | None = None, since: int | None = None
    ) -> list[dict[str, Any]]:
        """Every trade visible now (of one wallet, or all; created at or after ``since``, if
        given), newest first, with walletAddress."""
        filters = [f"wallet={wallet}"] * bool(wallet) + [f"since={since}"] * (since is not None)
        route = "truth/trades" + ("?" + "&".join(filters) if filters else "")
        return self._call("GET", route)["trades"]

    def wallets(self) -> list[dict[str, Any]]:
        return self._call("GET", "wallets")["wallets"]

    def truth_pnl(self) -> dict[str, Any]:
        """Each wallet's realized and unrealized PnL and decided counts now (truth_pnl.py)."""
        return self._call("GET", "truth/pnl")

    def traders(self) -> list[dict[str, Any]]:
        """The untracked population (address, label, profile retail|big)."""
        return self._call("GET", "traders")["traders"]

    def truth_leaderboard(self, data_type: str, period: int) -> list[dict[str, Any]]:
        """One board's true ranking (rank, walletAddress, profile, value), every wallet."""
        route = f"truth/leaderboard?dataType={data_type}&period={period}"
        return self._call("GET", route)["boards"][0]["ranking"]

    def truth_holders(self, market_id: int | None = None) -> list[dict[str, Any]]:
        """Exact holders per leaf market and side ({marketId, holders: {yes, no}})."""
        route = f"truth/holders?marketId={market_id}" if market_id else "truth/holders"
        return self._call("GET", route)["markets"]

    def counters(self) -> dict[str, Any]:
        return self._call("GET", "counters")

    def reset_counters(self) -> dict[str, Any]:
        return self._call("POST", "counters/reset", {})

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "faults")

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Merge fault settings (see faults.FaultSettings); returns the settings now live."""
        return self._call("POST", "faults", settings)

    def reset_faults(self) -> dict[str, Any]:
        return self._call("POST", "faults", {"reset": True})

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "clock")

    def advance(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "clock", {"advance_seconds": seconds})

    def set_speed(self, speed: float) -> dict[str, Any]:
        return self._call("POST", "clock", {"speed": speed})


class SimulatorProcess(SimulatorControl):
    """``with SimulatorProcess("key", clock_speed=0) as sim: sim.base_url ...``"""

    def __init__(
        self,
        api_key: str,
        *,
        seed: int = 42,
        markets: int = 60,
        wallets: int = 30,
        traders: int | None = None,
        history_days: float = 14.0,
        clock_speed: float = 1.0,
        start_time: int | None = None,
        world_start: int | None = None,
        port: int = 0,
        rate_limit: float = 15.0,
        faults: dict[str, Any] | None = None,
        extra_args: Sequence[str] = (),
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        super().__init__("http://simulator.not-started")
        self._api_key = api_key
        self._start_timeout = start_timeout
        self.args = [
            "--port", str(port), "--seed", str(seed), "--markets", str(markets),
            "--wallets", str(wallets), "--history-days", str(history_days),
            "--clock-speed", str(clock_speed), "--rate-limit", str(rate_limit),
        ]  # fmt: skip
        if traders is not None:
            self.args += ["--traders", str(traders)]
        if start_time is not None:
            self.args += ["--start-time", str(start_time)]
        if world_start is not None:
            self.args += ["--world-start", str(world_start)]
        if faults:
            self.args += ["--faults", json.dumps(faults)]
        self.args += list(extra_args)
        self._process: subprocess.Popen[str] | None = None
        self._stderr: Any = None
        self.returncode: int | None = None
        self._stderr_text = ""

    def __repr__(self) -> str:
        return f"SimulatorProcess(root_url={self._root_url!r}, args={self.args!r})"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/openapi"

    @property
    def leaderboard_url(self) -> str:
        return f"{self.root_url}{LEADERBOARD_PATH}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> SimulatorProcess:
        env = {**os.environ, API_KEY_ENV: self._api_key}
        # Kept open for the child's lifetime (closed in stop), so not a with-block.
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        command = [sys.executable, "-m", "opinion_pipeline.simulator", *self.args]
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        lines: list[str] = []
        ready = threading.Event()
        threading.Thread(target=self._read_stdout, args=(lines, ready), daemon=True).start()
        finished = ready.wait(self._start_timeout)
        match = READY_LINE.search(lines[0]) if lines else None
        if match is None:
            try:  # stdout closed early: the child is exiting, so wait for its code
                code = self._process.wait(STOP_TIMEOUT) if finished else self._process.poll()
            except subprocess.TimeoutExpired:
                code = None
            self.stop()
            state = "timed out" if code is None else f"exited with code {code}"
            raise SimulatorError(f"simulator {state} before serving; stderr:\n{self.stderr()}")
        self._root_url = match.group(1)
        return self

    def _read_stdout(self, lines: list[str], ready: threading.Event) -> None:
        """Hand over the ready line, then keep draining stdout so the child never blocks."""
        assert self._process is not None and self._process.stdout is not None
        try:
            for line in self._process.stdout:
                if not lines:
                    lines.append(line)
                    ready.set()
        finally:
            ready.set()

    def stderr(self) -> str:
        """What the child wrote on stderr (it never contains the key)."""
        if self._stderr is None:
            return self._stderr_text
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self) -> int | None:
        """Terminate (SIGTERM), then kill after a timeout; returns the exit code."""
        process, self._process = self._process, None
        if process is None:
            return self.returncode
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        self.returncode = process.returncode
        if self._stderr is not None:
            self._stderr_text = self.stderr()
            self._stderr.close()
            self._stderr = None
        return process.returncode

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self._session.close()
