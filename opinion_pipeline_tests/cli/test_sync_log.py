"""The sync-log console script, run as a subprocess against a DAGSTER_HOME with real runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from opinion_pipeline.cli.sync_log import UsageError, main, parse_since, parse_statuses
from opinion_pipeline_tests.pipeline.helpers import run_job

REPO = Path(__file__).resolve().parents[2]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("sync-log")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "opinion_pipeline.cli.sync_log"]


def sync_log(
    home: Path | None, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    unset = ("DAGSTER_HOME", "OPINION_API_KEY", "OPINION_MODE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    if home is not None:
        env["DAGSTER_HOME"] = str(home)
    return subprocess.run(
        [*_command(), *args], env=env, capture_output=True, text=True, timeout=60, check=False,
        cwd=cwd,
    )  # fmt: skip


@pytest.fixture
def home_with_runs(pipeline_env, tmp_path, monkeypatch, api_key):
    """A Dagster home (the project's dagster.yaml) with a success, a failure and another job."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ok = run_job(instance, "sync_markets")
        monkeypatch.setenv("OPINION_API_KEY", "sk-refused-" + api_key[::-1])
        failed = run_job(instance, "sync_markets")
        monkeypatch.setenv("OPINION_API_KEY", api_key)
        other = run_job(instance, "mark_inactive_whales")
    assert ok.success and not failed.success and other.success
    metadata = ok.asset_materializations_for_node("markets")[0].metadata
    return {
        "home": home,
        "ok": ok.run_id,
        "failed": failed.run_id,
        "other": other.run_id,
        "numbers": {name: value.value for name, value in metadata.items()},
    }


def test_lists_runs_per_job_with_counts_errors_and_filters(home_with_runs, api_key):
    runs = home_with_runs
    text = sync_log(runs["home"])
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "sync_markets  (2 run(s) shown, 1 failed)" in out
    assert "mark_inactive_whales  (1 run(s) shown, 0 failed)" in out
    ok_line = next(line for line in out.splitlines() if runs["ok"][:8] in line)
    fetched = f"{runs['numbers']['items_fetched']:,}"
    assert ok_line.split()[0] == "SUCCESS" and fetched in ok_line.split()
    error_line = next(line for line in out.splitlines() if line.strip().startswith("error:"))
    assert "401" in error_line
    assert api_key not in out and api_key[::-1] not in out

    listed = json.loads(sync_log(runs["home"], "--json", "--job", "sync_markets").stdout)
    assert [r["run_id"] for r in listed] == [runs["failed"], runs["ok"]], "newest first"
    ok = listed[1]
    for name in ("items_fetched", "new_rows", "quarantined", "requests", "rate_limited_429s"):
        assert ok["numbers"][name] == runs["numbers"][name], name
    assert ok["status"] == "SUCCESS" and ok["error"] is None and ok["duration_s"] > 0
    assert listed[0]["status"] == "FAILURE" and "OpinionAuthError" in listed[0]["error"]

    failed = json.loads(sync_log(runs["home"], "--status", "failed", "--json").stdout)
    assert [r["run_id"] for r in failed] == [runs["failed"]]


def test_limit_and_since_filters(home_with_runs, monkeypatch, capsys):
    """In process (each subprocess spends seconds importing Dagster); same code path as above."""
    monkeypatch.setenv("DAGSTER_HOME", str(home_with_runs["home"]))
    assert main(["--limit", "1", "--since", "1h", "--json"]) == 0
    newest = json.loads(capsys.readouterr().out)
    assert {r["run_id"] for r in newest} == {home_with_runs["failed"], home_with_runs["other"]}
    assert main(["--since", "2999-01-01"]) == 0
    future = capsys.readouterr()
    assert future.out == "" and "no runs match" in future.err
    assert main(["--limit", "0"]) == 2


def test_finds_the_instance_scripts_start_uses_without_dagster_home(home_with_runs, tmp_path):
    project = tmp_path / "project"
    (project / ".dagster_home").mkdir(parents=True)
    (project / ".dagster_home" / "simulator").symlink_to(home_with_runs["home"])
    found = sync_log(None, "--json", cwd=project)
    assert found.returncode == 0, found.stderr
    # found through .dagster_home/simulator (a link here, so the resolved path is printed)
    assert f"instance {Path(home_with_runs['home']).resolve()} (simulator mode)" in found.stderr
    assert found.stdout.strip(), "it listed the runs of that instance"


def test_clear_errors_without_dagster_home_or_with_bad_arguments(tmp_path, monkeypatch, capsys):
    unset = sync_log(None, cwd=tmp_path)
    assert unset.returncode == 2
    expected = tmp_path.resolve() / ".dagster_home" / "simulator"
    assert f"no Dagster instance at {expected} (simulator mode)" in unset.stderr
    assert "Traceback" not in unset.stderr
    assert main(["--since", "yesterday-ish"]) == 2
    with pytest.raises(UsageError, match="not a run status"):
        parse_statuses("exploded")
    assert [s.value for s in parse_statuses("failed,running")] == ["FAILURE", "STARTED"]
    from datetime import datetime, timezone

    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert parse_since("24h", now) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_since("2025-12-31", now) == datetime(2025, 12, 31, tzinfo=timezone.utc)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "nowhere"))
    assert main([]) == 2 and "no Dagster instance at" in capsys.readouterr().err


def test_text_shows_the_whole_error_of_a_failed_run_and_json_keeps_it(
    pipeline_env, tmp_path, monkeypatch, capsys
):
    """A registry with three bad lines: every line number shows, indented under the run."""
    home = tmp_path / "home_bad_registry"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    registry = Path(pipeline_env["OPINION_WHALES_FILE"])
    registry.write_text(
        "address,label,tags\n0xnotanaddress,a,\n"
        "0x1234567890abcdef1234567890abcdef12345678,,\n"
        "0x1234567890abcdef1234567890abcdef1234567,short,\n",
        encoding="utf-8",
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert not run_job(instance, "sync_whale_trades").success
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["--job", "sync_whale_trades"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("error:"))
    error_block = lines[start : start + 4]
    assert "3 bad line(s)" in error_block[0]
    for number, line in zip((2, 3, 4), error_block[1:], strict=True):
        assert line.startswith(" " * 13 + f"line {number}:"), error_block
    assert main(["--job", "sync_whale_trades", "--json"]) == 0
    error = json.loads(capsys.readouterr().out)[0]["error"]
    assert all(f"line {n}:" in error for n in (2, 3, 4)) and "3 bad line(s)" in error
