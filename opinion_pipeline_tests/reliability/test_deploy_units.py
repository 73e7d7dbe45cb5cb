"""deploy/systemd/ runs what scripts/start runs: the same three commands, each restarted."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest
import yaml

from opinion_pipeline.stack import LOCATION, children
from opinion_pipeline_tests.reliability.dagster_cli import ROOT

UNITS = ROOT / "deploy" / "systemd"


def _service(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / f"opinion-{name}.service")
    return parser


@pytest.mark.unit
def test_each_unit_runs_the_launchers_command_with_a_restart_policy():
    workspace = Path("/srv/opinion/app/deploy/workspace.yaml")
    expected = {
        child.name.replace(" ", "-"): child
        for child in children(Path("/srv/opinion/app"), workspace, 4266, "127.0.0.1", 3000)
    }
    assert sorted(path.stem for path in UNITS.glob("*.service")) == sorted(
        f"opinion-{name}" for name in expected
    )
    for name, child in expected.items():
        unit = _service(name)
        argv = shlex.split(unit["Service"]["ExecStart"])
        assert [Path(argv[0]).name, *argv[1:]] == [Path(child.argv[0]).name, *child.argv[1:]]
        assert unit["Service"]["Restart"] == "always"
        assert unit["Service"]["KillSignal"] == "SIGINT"
        assert int(unit["Unit"]["StartLimitBurst"]) >= 1
        assert unit["Service"]["EnvironmentFile"] == "/etc/opinion-pipeline/env"


@pytest.mark.unit
def test_the_server_workspace_points_at_the_code_server_unit():
    [entry] = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())["load_from"]
    assert entry["grpc_server"] == {"host": "127.0.0.1", "port": 4266, "location_name": LOCATION}
