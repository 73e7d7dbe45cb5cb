"""Every asset is in its job's pool, the instance enforces pools per run, UI runs get job tags."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest
import yaml

from opinion_pipeline.automation.run_owner import owner_tags, tag_runs
from opinion_pipeline.definitions import defs
from opinion_pipeline_tests.pipeline.helpers import ROOT

pytestmark = pytest.mark.unit
REPOSITORY = defs.get_repository_def()
JOBS = [name for name in REPOSITORY.job_names if not name.startswith("__")]


def test_every_asset_is_in_the_pool_of_the_one_job_that_owns_it():
    owners: dict[dg.AssetKey, list[str]] = {}
    for job in JOBS:
        for key in REPOSITORY.get_job(job).asset_layer.selected_asset_keys:
            owners.setdefault(key, []).append(job)
    assert set(owners) == set(REPOSITORY.asset_graph.get_all_asset_keys())
    for key, jobs in owners.items():
        assert len(jobs) == 1, f"{key.to_user_string()} is in several jobs: {jobs}"
        assert REPOSITORY.asset_graph.get(key).pools == {jobs[0]}, key.to_user_string()


@pytest.mark.parametrize("config", ["dagster.yaml", "deploy/postgres/dagster.yaml"])
def test_both_instance_configs_limit_every_pool_to_one_run(config):
    concurrency = yaml.safe_load((ROOT / config).read_text())["concurrency"]
    assert concurrency["pools"] == {"granularity": "run", "default_limit": 1}
    assert concurrency["runs"]["tag_concurrency_limits"][0]["key"] == "opinion/job"


def test_the_shipped_instance_config_loads_with_run_granular_pools(tmp_path):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        pools = instance.get_concurrency_config().pool_config
        assert pools.pool_granularity.value == "run" and pools.default_pool_limit == 1


def _ui_run(instance: dg.DagsterInstance, *assets: str, tags=None) -> dg.DagsterRun:
    """A run as a "Materialize" click creates it: __ASSET_JOB over the assets, no job tags."""
    job = REPOSITORY.get_implicit_global_asset_job_def()
    return instance.create_run_for_job(
        job, asset_selection=frozenset(dg.AssetKey(a) for a in assets), tags=tags or {}
    )


def test_a_ui_run_gets_the_owning_jobs_tags_once(tmp_path):
    with dg.instance_for_test() as instance:
        clicked = _ui_run(instance, "whale_trades", "whale_activity")
        assert owner_tags(clicked, REPOSITORY) == {
            "opinion/job": "sync_whale_trades", "dagster/max_runtime": "300",
        }  # fmt: skip
        # two jobs: no single owner
        mixed = _ui_run(instance, "whale_trades", "whale_activity", "markets")
        assert owner_tags(mixed, REPOSITORY) == {}
        tagged = tag_runs(instance, REPOSITORY, since=0)
        assert tagged == [f"{clicked.run_id[:8]} -> sync_whale_trades"]
        assert instance.get_run_by_id(clicked.run_id).tags["dagster/max_runtime"] == "300"
        assert tag_runs(instance, REPOSITORY, since=0) == [], "already tagged"
