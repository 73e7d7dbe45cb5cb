"""Run-history upkeep: old finished runs go to Parquet, then out of Dagster; reruns are harmless."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.scheduler.instigation import TickStatus

from opinion_pipeline.config import load_settings
from opinion_pipeline.definitions import build_definitions
from opinion_pipeline.defs.run_history.prune import prune_runs
from opinion_pipeline_tests.pipeline.helpers import run_job

REPO = Path(__file__).resolve().parents[3]
INSTANCE_CONFIGS = [REPO / "dagster.yaml", REPO / "deploy" / "postgres" / "dagster.yaml"]


def _archive(root: Path) -> dict[str, dict]:
    pattern = (root / "**" / "*.parquet").as_posix()
    frame = duckdb.sql(f"SELECT * FROM read_parquet('{pattern}')").df()
    assert frame["run_id"].is_unique, "a run is archived once"
    return {row["run_id"]: row for row in frame.to_dict("records")}


def _run_ids(instance: dg.DagsterInstance) -> set[str]:
    return {record.dagster_run.run_id for record in instance.get_run_records()}


def _pause() -> datetime:
    """A cutoff strictly between runs created before and after it."""
    time.sleep(1.1)
    moment = datetime.now(timezone.utc)
    time.sleep(1.1)
    return moment


def test_old_finished_runs_are_archived_then_deleted(
    pipeline_env, instance, monkeypatch, api_key, tmp_path
):
    synced = run_job(instance, "sync_markets")
    assert synced.success
    monkeypatch.setenv("OPINION_API_KEY", "sk-refused-" + api_key[::-1])
    failed = run_job(instance, "sync_markets")
    assert not failed.success
    monkeypatch.setenv("OPINION_API_KEY", api_key)
    stats = run_job(instance, "compute_sync_statistics")
    running = instance.create_run_for_job(
        build_definitions().resolve_job_def("sync_whale_trades"),
        status=dg.DagsterRunStatus.STARTED,
    )
    cutoff = _pause()
    recent = run_job(instance, "mark_inactive_whales")
    old = {synced.run_id, failed.run_id, stats.run_id}

    root = load_settings().run_archive_root
    result = prune_runs(instance, root, cutoff, batch_size=2)
    assert (result.archived, result.deleted, result.already_archived) == (3, 3, 0)
    assert len(result.files) == 2, "batches of two"
    assert _run_ids(instance) == {running.run_id, recent.run_id}, "in-progress and new runs stay"
    for run_id in old:
        assert not instance.get_records_for_run(run_id).records, "the event log goes too"
    assert not list(root.rglob(".*.tmp")), "no temporary file left behind"

    archive = _archive(root)
    assert set(archive) == old
    sync_row = archive[synced.run_id]
    metadata = synced.asset_materializations_for_node("markets")[0].metadata
    assert sync_row["job_name"] == "sync_markets" and sync_row["status"] == "SUCCESS"
    assert sync_row["requests"] == metadata["requests"].value > 0
    assert sync_row["new_rows"] == metadata["new_rows"].value
    assert sync_row["duration_s"] > 0 and sync_row["ended_at"] > sync_row["started_at"]
    assert archive[failed.run_id]["status"] == "FAILURE"
    assert "401" in archive[failed.run_id]["error"] or "refused" in archive[failed.run_id]["error"]
    assert api_key[::-1] not in archive[failed.run_id]["error"]
    # The statistics asset reports totals under the same names: not a sync of its own.
    assert stats.asset_materializations_for_node("sync_statistics")[0].metadata["requests"]
    assert pd.isna(archive[stats.run_id]["requests"]) and pd.isna(archive[stats.run_id]["error"])

    files = sorted(p.name for p in root.rglob("*.parquet"))
    again = prune_runs(instance, root, cutoff, batch_size=2)
    assert (again.archived, again.deleted) == (0, 0)
    assert sorted(p.name for p in root.rglob("*.parquet")) == files
    assert _run_ids(instance) == {running.run_id, recent.run_id}


def test_a_crash_between_archive_and_delete_does_not_archive_twice(instance, tmp_path, monkeypatch):
    job = build_definitions().resolve_job_def("compute_sync_statistics")
    first = [job.execute_in_process(instance=instance).run_id for _ in range(3)]
    cutoff = _pause()
    root = tmp_path / "archive" / "runs"

    def crash(run_id: str) -> None:
        raise RuntimeError("killed before deleting")

    monkeypatch.setattr(instance, "delete_run", crash)
    with pytest.raises(RuntimeError, match="killed"):
        prune_runs(instance, root, cutoff)
    monkeypatch.undo()
    assert set(_archive(root)) == set(first) and _run_ids(instance) == set(first)

    result = prune_runs(instance, root, cutoff)
    assert (result.archived, result.already_archived, result.deleted) == (0, 3, 3)
    assert set(_archive(root)) == set(first)
    assert not _run_ids(instance)


def test_job_uses_the_retention_setting_and_keeps_recent_runs(pipeline_env, instance, monkeypatch):
    monkeypatch.setenv("OPINION_RUN_RETENTION_DAYS", "7")
    assert run_job(instance, "compute_sync_statistics").success
    result = run_job(instance, "prune_run_history")
    assert result.success
    metadata = result.asset_materializations_for_node("run_history_archive")[0].metadata
    assert metadata["retention_days"].value == 7
    assert metadata["runs_deleted"].value == 0 and metadata["runs_archived"].value == 0
    assert metadata["archive_dir"].value == str(load_settings().run_archive_root)
    assert len(_run_ids(instance)) == 2


@pytest.mark.parametrize("config_path", INSTANCE_CONFIGS, ids=["sqlite", "postgres"])
def test_tick_retention_is_configured_in_both_instance_configs(config_path, tmp_path):
    retention = yaml.safe_load(config_path.read_text())["retention"]
    with dg.instance_for_test(overrides={"retention": retention}) as configured:
        for kind in (InstigatorType.SCHEDULE, InstigatorType.SENSOR):
            days = configured.get_tick_retention_settings(kind)
            finished = (TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.FAILURE)
            assert all(days[status] > 0 for status in finished), (kind, days)  # -1: forever
            assert days[TickStatus.SKIPPED] <= 7 and days[TickStatus.SUCCESS] <= 7
            assert days[TickStatus.FAILURE] >= days[TickStatus.SUCCESS]
    if config_path.name == "dagster.yaml" and config_path.parent == REPO:
        home = tmp_path / "home"  # the embedded config loads as a whole into a real instance
        home.mkdir()
        shutil.copy(config_path, home / "dagster.yaml")
        with dg.DagsterInstance.from_config(str(home)) as real:
            assert (
                real.get_tick_retention_settings(InstigatorType.SCHEDULE)[TickStatus.SUCCESS]
                == retention["schedule"]["purge_after_days"]["success"]
            )


OPERATIONS_SCHEDULES = {
    "health_check_schedule": ("health_check", "*/30 * * * *", "pipeline_health"),
    "mark_inactive_whales_schedule": ("mark_inactive_whales", "0 1 * * *", "whale_status"),
    "compute_sync_statistics_schedule": ("compute_sync_statistics", "5 * * * *", "sync_statistics"),
    "prune_run_history_schedule": ("prune_run_history", "30 3 * * *", "run_history_archive"),
}


def test_operations_jobs_are_scheduled_in_utc_running_by_default():
    defs = build_definitions()
    schedules = {schedule.name: schedule for schedule in defs.schedules}
    for name, (job_name, cron, asset) in OPERATIONS_SCHEDULES.items():
        schedule = schedules[name]
        assert (schedule.job_name, schedule.cron_schedule) == (job_name, cron)
        assert schedule.execution_timezone == "UTC"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        job = defs.resolve_job_def(job_name)
        assert job.executor_def.name == dg.in_process_executor.name
        assert job.tags["opinion/job"] == job_name and "dagster/max_runtime" in job.tags
        assert job.asset_layer.executable_asset_keys == {dg.AssetKey(asset)}
    with dg.instance_for_test() as instance:
        schedule = schedules["health_check_schedule"]
        assert schedule.evaluate_tick(dg.build_schedule_context(instance=instance)).run_requests
        instance.create_run_for_job(
            defs.resolve_job_def("health_check"), status=dg.DagsterRunStatus.STARTED
        )
        skipped = schedule.evaluate_tick(dg.build_schedule_context(instance=instance))
        assert not skipped.run_requests and "still" in skipped.skip_message


@pytest.mark.postgres
def test_prune_on_a_postgres_instance(tmp_path, monkeypatch):
    """Production keeps runs in PostgreSQL: archive, delete and tick retention work there too."""
    from opinion_pipeline_tests.postgres import temporary_database

    with temporary_database() as pg:
        for name, value in pg.items():
            monkeypatch.setenv(name, value)
        home = tmp_path / "pg_home"
        home.mkdir()
        shutil.copy(INSTANCE_CONFIGS[1], home / "dagster.yaml")
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert "Postgres" in type(instance.run_storage).__name__
            assert (
                instance.get_tick_retention_settings(InstigatorType.SENSOR)[TickStatus.SKIPPED] == 1
            )
            job = build_definitions().resolve_job_def("compute_sync_statistics")
            old = {job.execute_in_process(instance=instance).run_id for _ in range(2)}
            running = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
            cutoff = _pause()
            recent = job.execute_in_process(instance=instance).run_id
            root = tmp_path / "archive" / "runs"
            result = prune_runs(instance, root, cutoff)
            assert (result.archived, result.deleted) == (2, 2)
            assert set(_archive(root)) == old
            assert _run_ids(instance) == {running.run_id, recent}
