"""definitions.py: the dataset folders are loaded whole, by Dagster's module loader."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

import opinion_pipeline.defs
from opinion_pipeline.definitions import build_definitions, load_datasets

pytestmark = pytest.mark.unit


def _inventory(defs: dg.Definitions) -> dict[str, Any]:
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    return {
        "assets": {
            key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
            for key in graph.get_all_asset_keys()
        },
        "checks": sorted(str(key) for key in graph.asset_check_keys),
        "jobs": {job.name: dict(job.tags) for job in repository.get_all_jobs()},
        "schedules": {s.name: (s.job_name, s.cron_schedule) for s in repository.schedule_defs},
        "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
    }


def test_the_module_loader_finds_what_the_components_loader_finds():
    """The components loader (dg.load_defs) was the project's loader before: nothing is lost."""
    shared = build_definitions()
    components = dg.Definitions.merge(
        dg.load_defs(defs_root=opinion_pipeline.defs),
        dg.Definitions(resources=shared.resources, sensors=[], executor=shared.executor),
    )
    modules = dg.Definitions.merge(
        load_datasets(),
        dg.Definitions(resources=shared.resources, sensors=[], executor=shared.executor),
    )
    assert _inventory(modules) == _inventory(components)
    assert _inventory(modules)["assets"], "the loader found no asset at all"


def test_every_dataset_job_and_its_schedule_are_loaded():
    inventory = _inventory(build_definitions())
    assert "sync_whale_trades" in inventory["jobs"]
    schedule = inventory["schedules"]["sync_whale_trades_schedule"]
    assert schedule == ("sync_whale_trades", "* * * * *")
    assert {"whale_registry", "whale_trades", "whale_activity"} <= set(inventory["assets"])
