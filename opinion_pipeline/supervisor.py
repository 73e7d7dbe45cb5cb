"""Supervision for ``scripts/start``: the daemon, webserver and code server as separate processes.

``dagster dev`` ends when its daemon dies, taking the UI with it, and nothing restarts it. Here
each process is started on its own; one that exits while the stack is not stopping is restarted
after a backoff (1 s, 2 s, 4 s ... up to 30 s), with a log line and an alert through the
pipeline's alert channel (``automation.alerts``). More than ``max_restarts`` crashes of one
process within ``window_s`` give up: everything is stopped, an alert says so, and the launcher
exits with status 1. Ctrl-C or SIGTERM stops every process (SIGINT to each, then SIGKILL after
the grace period).

Children stay in the launcher's process group (a terminal's Ctrl-C reaches them all) and get
SIGTERM if the launcher itself dies (Linux ``PR_SET_PDEATHSIG``), so none outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opinion_pipeline.automation.alerts import Alert, AlertSettings, send_alert

POLL_S = 0.2
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    """One supervised process: its command, whether it is up, and its recent crashes."""

    name: str
    argv: list[str]
    ready: Callable[[], bool] | None = None  # started ones wait for this before the next starts
    process: subprocess.Popen | None = None
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


def exit_text(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "?"
        return f"killed by signal {-code} ({name})"
    return f"exited with code {code}"


def _child_setup() -> None:
    """In the child: default SIGINT (a background launcher has it ignored); die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def process_alert(kind: str, title: str, fields: Mapping[str, str], ui_url: str) -> Alert:
    return Alert(
        kind=kind,
        title=title,
        fields=dict(fields),
        link_url=ui_url,
        link_label="Open the Dagster UI",
        data={"kind": kind, "title": title, **dict(fields), "ui_url": ui_url},
    )


class Supervisor:
    def __init__(
        self,
        children: Sequence[Child],
        *,
        env: Mapping[str, str],
        cwd: Path,
        alerts: AlertSettings,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 30.0,
        max_restarts: int = 5,
        window_s: float = 300.0,
        grace_s: float = 60.0,
        ready_timeout_s: float = 180.0,
    ) -> None:
        self.children = list(children)
        self.env = dict(env)
        self.cwd = cwd
        self.alerts = alerts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.grace_s = grace_s
        self.ready_timeout_s = ready_timeout_s
        self._senders: list[threading.Thread] = []

    # ------------------------------------------------------------------------------ output

    def say(self, line: str) -> None:
        print(f"scripts/start: {line}", flush=True)

    def alert(self, kind: str, title: str, fields: Mapping[str, str]) -> None:
        """Alerts go out on a thread: a slow channel must not hold up a restart."""
        alert = process_alert(kind, title, fields, self.alerts.ui_base_url)
        sender = threading.Thread(target=send_alert, args=(alert, self.alerts), daemon=True)
        sender.start()
        self._senders.append(sender)

    # ----------------------------------------------------------------------------- control

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv, cwd=self.cwd, env=self.env, preexec_fn=_child_setup
        )
        child.restart_at = None

    def _wait_ready(self, child: Child) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while child.ready is not None and not child.ready():
            if child.process is not None and child.process.poll() is not None:
                return  # it died while starting: the loop handles it
            if time.monotonic() > deadline:
                self.say(f"{child.name} is not ready after {self.ready_timeout_s:.0f} s; going on")
                return
            time.sleep(POLL_S)

    def _crashed(self, child: Child, code: int, now: float) -> bool:
        """Record a crash; schedule the restart. False when it crashed too often: give up."""
        child.crashes.append(now)
        while child.crashes and child.crashes[0] < now - self.window_s:
            child.crashes.popleft()
        count = len(child.crashes)
        how = exit_text(code)
        if count > self.max_restarts:
            message = (
                f"{child.name} {how}; it crashed {count} times within {self.window_s:.0f} s, "
                "so scripts/start gives up and stops the pipeline. See the output above "
                f"for {child.name}'s errors, fix the cause and start again."
            )
            self.say(message)
            self.alert(
                "process_gave_up",
                f"Pipeline stopped: {child.name} keeps crashing",
                {
                    "process": child.name,
                    "exit": how,
                    "crashes": f"{count} in {self.window_s:.0f} s",
                },
            )
            return False
        delay = min(self.backoff_base_s * 2 ** (count - 1), self.backoff_max_s)
        child.restart_at = now + delay
        self.say(
            f"{child.name} {how} unexpectedly; restarting it in {delay:.0f} s "
            f"(crash {count} of at most {self.max_restarts} within {self.window_s:.0f} s)"
        )
        self.alert(
            "process_restart",
            f"Pipeline process restarted: {child.name}",
            {
                "process": child.name,
                "exit": how,
                "restart in": f"{delay:.0f} s",
                "crashes": f"{count} in {self.window_s:.0f} s",
            },
        )
        return True

    def _supervise(self) -> int:
        while True:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        self.say(f"starting {child.name} again")
                        self._start(child)
                    continue
                code = child.process.poll() if child.process is not None else None
                if code is not None and not self._crashed(child, code, now):
                    return 1
            time.sleep(POLL_S)

    def stop(self) -> None:
        """SIGINT to every live process (last started first), SIGKILL after the grace period."""
        live = [
            c.process for c in reversed(self.children) if c.process and c.process.poll() is None
        ]
        for process in live:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + self.grace_s
        for process in live:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def run(self) -> int:
        """Start every child in order and supervise until Ctrl-C/SIGTERM (0) or giving up (1)."""
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        for sig in previous:
            signal.signal(sig, interrupt)
        try:
            try:
                for child in self.children:
                    self._start(child)
                    self._wait_ready(child)
                code = self._supervise()
            except KeyboardInterrupt:
                code = 0
            while True:
                try:
                    self.stop()
                    break
                except KeyboardInterrupt:  # a second Ctrl-C: stop harder
                    self.grace_s = 0
            for sender in self._senders:
                sender.join(timeout=10)
            return code
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
