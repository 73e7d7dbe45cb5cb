"""Every warehouse-query example of the README, the start banner and --help, run as typed.

The commands run in a shell from a "project root" (a temporary directory) with no OPINION_*
variable set, as a new user types them after ``source .venv/bin/activate``: in simulator mode
they must find the warehouse a sync filled under ``data/simulator/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opinion_pipeline.cli.query import EXAMPLES
from opinion_pipeline.launcher import QUERY_EXAMPLES
from opinion_pipeline_tests.pipeline.helpers import ROOT, run_job

COMMAND = re.compile(r"^warehouse-query\b.*$", re.MULTILINE)
INLINE = re.compile(r"`(warehouse-query [^`]+)`")


def readme_queries() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    commands = [match.group(0).strip() for block in blocks for match in COMMAND.finditer(block)]
    commands += INLINE.findall(text)
    return commands


def every_example() -> list[str]:
    help_examples = [line.strip() for line in EXAMPLES.splitlines()[1:] if line.strip()]
    return [*readme_queries(), *QUERY_EXAMPLES, *help_examples]


def test_the_examples_are_found():
    examples = every_example()
    assert len(readme_queries()) >= 4, readme_queries()
    assert any("read_parquet" in example for example in examples)
    assert any("--tables" in example for example in QUERY_EXAMPLES)


def user_shell_env() -> dict[str, str]:
    """A terminal after `source .venv/bin/activate`: no OPINION_* or DAGSTER_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPINION_", "DAGSTER_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def project_root(tmp_path_factory, simulator, api_key):
    """A project root whose simulator-mode warehouse a real sync filled (and an archive)."""
    root = tmp_path_factory.mktemp("project")
    data = root / "data" / "simulator"
    data.mkdir(parents=True)
    whales = ["address,label,tags"] + [f"{w['address']},{w['label']}," for w in simulator.wallets()]
    (data / "whales.csv").write_text("\n".join(whales) + "\n", encoding="utf-8")
    env = {
        "OPINION_API_KEY": api_key,
        "OPINION_MODE": "simulator",
        "OPINION_API_BASE_URL": simulator.base_url,
        "OPINION_LEADERBOARD_URL": simulator.leaderboard_url,
        "OPINION_DATA_DIR": str(data),
        "OPINION_RATE_LIMIT_DIR": str(root / "limiter"),
        "OPINION_RETENTION_DAYS": "1",  # the small world's history is 3 days: archive some
    }
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        import dagster as dg

        with dg.instance_for_test() as instance:
            for job in ("sync_markets", "sync_whale_trades", "compute_whale_stats",
                        "cleanup_old_activity"):  # fmt: skip
                assert run_job(instance, job).success, job
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (data / "warehouse.duckdb").exists()
    assert list((data / "archive" / "trades").rglob("*.parquet")), "retention archived trades"
    return root


@pytest.mark.parametrize("command", every_example())
def test_example_works_as_typed_in_simulator_mode(project_root, command):
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=project_root,
        env=user_shell_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    warehouse = project_root / "data" / "simulator" / "warehouse.duckdb"
    assert f"warehouse {warehouse} (simulator mode)" in result.stderr
    produced = result.stdout
    if ">" in command:
        produced = (project_root / command.rsplit(">", 1)[1].strip()).read_text()
    lines = [line for line in produced.splitlines() if line.strip()]
    assert len(lines) >= 2, f"{command!r} printed a header and at least one row: {produced!r}"
    # a number token in scientific notation; UUIDs and hex keys hold look-alikes ("7e-8")
    scientific = r"(?<![\w.-])[+-]?\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.-])"
    assert not re.search(scientific, produced), f"scientific notation in {produced!r}"
