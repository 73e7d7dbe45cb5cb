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


def test_the_readme_limit_on_reexecutions_still_holds():
    """README: a re-execution keeps its parent's schedule tag (UI: "Launched by <schedule>").

    Dagster copies the parent's tags except those listed below and offers no call to remove a
    run tag. When either changes, this fails: then make re-executions drop the schedule tag
    here and correct the README's "What runs" paragraph.
    """
    from dagster._core.storage.tags import SCHEDULE_NAME_TAG, TAGS_TO_MAYBE_OMIT_ON_RETRY

    assert SCHEDULE_NAME_TAG not in TAGS_TO_MAYBE_OMIT_ON_RETRY
    removers = [n for n in dir(dg.DagsterInstance) if "tag" in n and ("remov" in n or "del" in n)]
    assert removers == []
