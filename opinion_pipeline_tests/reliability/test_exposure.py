"""Exposure: the simulator and the UI bind loopback unless the user explicitly says otherwise.

The simulator's listening socket is read from the kernel (/proc/net/tcp for the child's socket
inode), so the test checks what is really bound, not what the code intends. The launcher is
exercised through its real ``main()`` with the final step (starting the process) captured, so
the command ``main()`` really builds is checked without starting the UI.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from opinion_pipeline import launcher, stack
from opinion_pipeline.simulator.__main__ import build_parser
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.reliability.figures import record


def _listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(IPv4 address, port) of every TCP socket in LISTEN state that ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and inode in inodes:  # 0A = LISTEN
            address, port = local.split(":")
            octets = [str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)]
            found.add((".".join(octets), int(port, 16)))
    return found


def _non_loopback_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for UDP connect
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_simulator_listens_on_loopback_only(api_key: str) -> None:
    assert build_parser().parse_args([]).host == "127.0.0.1"
    with SimulatorProcess(api_key, clock_speed=0) as sim:
        assert "--host" not in sim.args, "the default must come from the simulator itself"
        assert sim.pid is not None
        listening = _listening_addresses(sim.pid)
        port = int(sim.root_url.rsplit(":", 1)[1])
        other = _non_loopback_address()
        reachable_from_outside = None
        if other is not None:
            with socket.socket() as client:
                client.settimeout(2)
                reachable_from_outside = client.connect_ex((other, port)) == 0
    record(
        "exposure/simulator",
        listening=sorted(f"{host}:{p}" for host, p in listening),
        probed_non_loopback=other,
        reachable_from_non_loopback=reachable_from_outside,
    )
    assert listening == {("127.0.0.1", port)}
    assert sim.root_url.startswith("http://127.0.0.1:")
    assert reachable_from_outside in (None, False)


def _launcher_command(monkeypatch, tmp_path: Path, argv: list[str], **env: str) -> list[str]:
    """Run launcher.main() with a key set (no simulator) and capture the webserver command."""
    for name in list(os.environ):
        if name.startswith(("OPINION_", "DAGSTER_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPINION_API_KEY", "sk-not-used")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    calls: list[list[str]] = []

    class CapturingSupervisor:
        """Records the webserver's command line instead of starting the stack."""

        def __init__(self, children, **_: object) -> None:
            calls.extend(child.argv for child in children if child.name == "webserver")

        def run(self) -> int:
            return 0

    monkeypatch.setattr(stack, "Supervisor", CapturingSupervisor)
    assert launcher.main(argv) == 0
    assert len(calls) == 1
    return calls[0]


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_launcher_serves_the_ui_on_loopback_by_default(monkeypatch, tmp_path: Path) -> None:
    command = _launcher_command(monkeypatch, tmp_path, [])
    assert Path(command[0]).name == "dagster-webserver"
    assert _option(command, "-h") == "127.0.0.1"
    assert _option(command, "-p") == "3000"
    record("exposure/launcher", default_command=" ".join([Path(command[0]).name, *command[1:]]))


def test_launcher_binds_elsewhere_only_when_asked(monkeypatch, tmp_path: Path) -> None:
    from_env = _launcher_command(monkeypatch, tmp_path, [], OPINION_UI_HOST="0.0.0.0")
    assert _option(from_env, "-h") == "0.0.0.0"
    from_flag = _launcher_command(monkeypatch, tmp_path, ["--host", "10.1.2.3", "--port", "3100"])
    assert _option(from_flag, "-h") == "10.1.2.3" and _option(from_flag, "-p") == "3100"
