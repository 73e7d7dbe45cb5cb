"""A UI run gets its owning job's tags when it is submitted, not seconds later by a sensor."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml
from dagster._core.test_utils import in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from opinion_pipeline.automation.run_coordinator import OwnerTaggingRunCoordinator
from opinion_pipeline.definitions import defs
from opinion_pipeline_tests.pipeline.helpers import ROOT

pytestmark = pytest.mark.unit
REPOSITORY = defs.get_repository_def()
REEXECUTE = """
mutation Reexecute($params: ReexecutionParams!) {
  launchRunReexecution(reexecutionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
COORDINATOR = {
    "module": "opinion_pipeline.automation.run_coordinator",
    "class": "OwnerTaggingRunCoordinator",
}


@pytest.mark.parametrize("config", ["dagster.yaml", "deploy/postgres/dagster.yaml"])
def test_both_instance_configs_use_the_tagging_coordinator(config):
    coordinator = yaml.safe_load((ROOT / config).read_text())["run_coordinator"]
    assert {k: coordinator[k] for k in ("module", "class")} == COORDINATOR


def test_a_materialize_click_is_queued_with_its_jobs_tags():
    target = LoadableTargetOrigin(
        module_name="opinion_pipeline.definitions", working_directory=str(ROOT)
    )
    with dg.instance_for_test(overrides={"run_coordinator": COORDINATOR}) as instance:
        assert isinstance(instance.run_coordinator, OwnerTaggingRunCoordinator)
        with in_process_test_workspace(instance, target) as workspace:
            job = REPOSITORY.get_implicit_global_asset_job_def()
            (location,) = workspace.get_code_location_entries().values()
            (repository,) = location.code_location.get_repositories().values()
            remote_job = repository.get_full_job(job.name)
            origins = {
                "remote_job_origin": remote_job.get_remote_origin(),
                "job_code_origin": remote_job.get_python_origin(),
            }
            clicked = instance.create_run_for_job(  # as the UI creates it: no job tags
                job,
                asset_selection=frozenset(
                    dg.AssetKey(a) for a in ("whale_trades", "whale_activity")
                ),
                **origins,
            )
            queued = instance.submit_run(clicked.run_id, workspace)
            assert queued.status == dg.DagsterRunStatus.QUEUED
            stored = instance.get_run_by_id(clicked.run_id).tags
            assert stored["opinion/job"] == "sync_whale_trades"
            assert stored["dagster/max_runtime"] == "300"
            mixed = instance.create_run_for_job(  # two jobs' assets: no single owner, no tags
                job,
                asset_selection=frozenset(
                    dg.AssetKey(a) for a in ("whale_trades", "whale_activity", "markets")
                ),
                **origins,
            )
            instance.submit_run(mixed.run_id, workspace)
            assert "opinion/job" not in instance.get_run_by_id(mixed.run_id).tags


def test_a_ui_reexecution_of_a_scheduled_run_is_not_labelled_with_the_schedule():
    with dg.instance_for_test(overrides={"run_coordinator": COORDINATOR}) as instance:
        check_reexecution_labels(instance)


@pytest.mark.postgres
def test_reexecution_labels_on_a_postgres_instance(tmp_path, monkeypatch):
    import shutil

    from opinion_pipeline_tests.postgres import temporary_database

    with temporary_database() as settings:
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", tmp_path / "dagster.yaml")
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            assert "Postgres" in type(instance.run_storage).__name__
            check_reexecution_labels(instance)


def check_reexecution_labels(instance: dg.DagsterInstance) -> None:
    """The UI's launchRunReexecution (Dagster copies the parent's tags, then submit_run): the
    rerun loses the schedule tags; the scheduled run (submitted through the same coordinator)
    keeps them, and so does an automatic retry (dagster/retry_number)."""
    from dagster._core.storage.tags import RETRY_NUMBER_TAG, SCHEDULE_NAME_TAG, TICK_ID_TAG
    from dagster_graphql.test.utils import execute_dagster_graphql

    schedule_tags = {SCHEDULE_NAME_TAG: "sync_whale_trades_schedule", TICK_ID_TAG: "7"}
    target = LoadableTargetOrigin(
        module_name="opinion_pipeline.definitions", working_directory=str(ROOT)
    )
    with in_process_test_workspace(instance, target) as workspace:
        (entry,) = workspace.get_code_location_entries().values()
        location = entry.code_location
        (repository,) = location.get_repositories().values()
        remote_job = repository.get_full_job("sync_whale_trades")
        scheduled = instance.create_run_for_job(
            REPOSITORY.get_job("sync_whale_trades"),
            tags={**remote_job.tags, **schedule_tags},
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
        )
        instance.submit_run(scheduled.run_id, workspace)

        def reexecute(parent: dg.DagsterRun, **extra: str) -> dict[str, str]:
            """The UI's own mutation, run in-process on the webserver's GraphQL schema."""
            params = {
                "parentRunId": parent.run_id,
                "strategy": "ALL_STEPS",
                "extraTags": [{"key": k, "value": v} for k, v in extra.items()],
            }
            result = execute_dagster_graphql(workspace, REEXECUTE, {"params": params})
            launched = result.data["launchRunReexecution"]
            assert launched["__typename"] == "LaunchRunSuccess", (result.errors, launched)
            run_id = launched["run"]["runId"]
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.QUEUED
            return instance.get_run_by_id(run_id).tags

        rerun = reexecute(instance.get_run_by_id(scheduled.run_id))
        assert rerun["dagster/parent_run_id"] == scheduled.run_id
        assert SCHEDULE_NAME_TAG not in rerun and TICK_ID_TAG not in rerun
        assert rerun["opinion/reexecution_of"] == scheduled.run_id
        assert rerun["opinion/job"] == "sync_whale_trades"
        assert instance.get_run_by_id(scheduled.run_id).tags[SCHEDULE_NAME_TAG] == (
            "sync_whale_trades_schedule"
        )
        by_tag = instance.get_runs(
            dg.RunsFilter(tags={SCHEDULE_NAME_TAG: "sync_whale_trades_schedule"})
        )
        assert [r.run_id for r in by_tag] == [scheduled.run_id]  # run_tags rows agree

        retry = reexecute(instance.get_run_by_id(scheduled.run_id), **{RETRY_NUMBER_TAG: "1"})
        assert retry[SCHEDULE_NAME_TAG] == "sync_whale_trades_schedule"


@pytest.mark.parametrize("config", ["dagster.yaml", "deploy/postgres/dagster.yaml"])
def test_the_queue_daemon_polls_every_half_second(config):
    from dagster._daemon.controller import create_daemon_of_type
    from dagster._daemon.run_coordinator import QueuedRunCoordinatorDaemon

    coordinator = yaml.safe_load((ROOT / config).read_text())["run_coordinator"]
    with dg.instance_for_test(overrides={"run_coordinator": coordinator}) as instance:
        daemon = create_daemon_of_type(QueuedRunCoordinatorDaemon.daemon_type(), instance)
        assert daemon.interval_seconds == 0.5
    whole_seconds = {**COORDINATOR, "config": {"dequeue_interval_seconds": 2}}
    with dg.instance_for_test(overrides={"run_coordinator": whole_seconds}) as instance:
        assert instance.run_coordinator.dequeue_interval_seconds == 2
