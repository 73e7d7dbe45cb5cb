"""scripts/start keeps its processes up: a killed daemon, webserver or code server comes back.

The give-up rule is tested on the supervisor itself with a process that always fails (fast);
the restarts on the real launcher, whose alerts go to a receiver on loopback.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from opinion_pipeline.automation.alerts import AlertSettings
from opinion_pipeline.supervisor import Child, Supervisor
from opinion_pipeline_tests.automation.alerts_fixtures import WebhookReceiver
from opinion_pipeline_tests.processes import wait_for
from opinion_pipeline_tests.reliability import figures
from opinion_pipeline_tests.reliability.stack_process import LauncherProcess

PROCESSES = {  # name in the alerts -> what its command line contains
    "daemon": "dagster-daemon run",
    "webserver": "dagster-webserver -h",
    "code server": "code-server start",
}


def test_repeated_crashes_give_up_with_a_clear_message_and_an_alert(tmp_path, capsys):
    with WebhookReceiver() as receiver:
        failing = Child("flaky", [sys.executable, "-c", "import sys; sys.exit(3)"])
        supervisor = Supervisor(
            [failing],
            env={},
            cwd=tmp_path,
            alerts=AlertSettings.from_urls(
                [receiver.url.replace("http://", "json://") + "/hook"], ui_base_url="http://ui:1"
            ),
            backoff_base_s=0.05,
            max_restarts=2,
            window_s=30,
        )
        started = time.monotonic()
        assert supervisor.run() == 1
        assert time.monotonic() - started < 10
        restarts = receiver.bodies("process_restart")
        assert [body["restart in"] for body in restarts] == ["0 s", "0 s"]
        assert all(body["exit"] == "exited with code 3" for body in restarts)
        [gave_up] = receiver.bodies("process_gave_up")
        assert gave_up["process"] == "flaky" and gave_up["ui_url"] == "http://ui:1"
    out = capsys.readouterr().out
    assert "flaky exited with code 3 unexpectedly; restarting it" in out
    assert "crashed 3 times within 30 s, so scripts/start gives up" in out


@pytest.mark.unit
def test_backoff_doubles_up_to_its_cap(tmp_path):
    supervisor = Supervisor(
        [], env={}, cwd=tmp_path, alerts=AlertSettings(), backoff_base_s=1, backoff_max_s=5
    )
    child = Child("x", [])
    delays = []
    for attempt in range(5):
        supervisor._crashed(child, -9, now=100.0 + attempt)
        delays.append(child.restart_at - (100.0 + attempt))  # type: ignore[operator]
    assert delays == [1, 2, 4, 5, 5]


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_killed_daemon_webserver_and_code_server_are_restarted_and_alerted(tmp_path):
    with WebhookReceiver() as receiver:
        stack = LauncherProcess(tmp_path, f"{receiver.url}/hook")
        try:
            stack.start()
            stack.wait_ui()
            back_in: dict[str, float] = {}
            for name, needle in PROCESSES.items():
                [pid] = wait_for(lambda n=needle: stack.pids(n), 60, f"the {name}")
                stack_killed = time.monotonic()
                os.kill(pid, signal.SIGKILL)

                def restarted(n: str = needle, old: int = pid) -> list[int]:
                    return [p for p in stack.pids(n) if p != old]

                wait_for(restarted, 60, f"the {name} to be started again")
                if name == "webserver":
                    stack.wait_ui(60)
                back_in[name] = round(time.monotonic() - stack_killed, 1)

                def alerted(n: str = name) -> list[dict]:
                    return [b for b in receiver.bodies("process_restart") if b["process"] == n]

                [alert] = wait_for(alerted, 30, f"the restart alert of the {name}")
                assert alert["exit"] == "killed by signal 9 (SIGKILL)"
                assert f"{name} killed by signal 9 (SIGKILL) unexpectedly" in stack.output()
            instance = stack.instance()
            wait_for(
                lambda: "SCHEDULER" in instance.get_daemon_heartbeats(), 60, "daemon heartbeats"
            )
            instance.dispose()
            figures.record("supervision", restart_seconds=back_in)

            assert stack.stop() == 0, stack.output()
            assert not any(stack.pids(needle) for needle in PROCESSES.values())
            assert not receiver.bodies("process_gave_up")
        finally:
            stack.cleanup()
