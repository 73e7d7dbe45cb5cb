"""The project's Dagster definitions: ``defs`` (workspace.yaml, [tool.dagster] and [tool.dg]).

Each dataset lives in its own folder under ``opinion_pipeline/defs`` (tables, sync logic,
assets, checks, job and schedule); Dagster's own loader collects what those folders define.
This module adds what every dataset shares: the resources, built from the environment read
once (``config.load_settings``), the operational sensors, and the single-process executor.
"""

from __future__ import annotations

import warnings

import dagster as dg

import opinion_pipeline.defs
from opinion_pipeline.automation.first_run import build_first_run_sensor
from opinion_pipeline.automation.run_owner import run_owner_sensor
from opinion_pipeline.automation.run_workers import tagged_in_process_executor
from opinion_pipeline.automation.sensors import SENSORS
from opinion_pipeline.config import Settings, load_settings
from opinion_pipeline.resources import build_resources


def load_datasets() -> dg.Definitions:
    """Every dataset folder's assets, checks, jobs and schedules (every module under ``defs``).

    Dagster's module loader rather than its components loader (``dg.load_defs``): the project
    declares no components, and every run worker imports this module, where the components
    loader's folder scan and catalog of installed component types cost ~0.3 s per run
    (BENCHMARKS.md "Orchestration"). Both find the same definitions
    (opinion_pipeline_tests/test_definitions.py).
    """
    with warnings.catch_warnings():  # the module loader is marked "preview" in Dagster 1.13
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.load_definitions_from_package_module(opinion_pipeline.defs)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Definitions with resources configured from ``settings`` (default: the environment now)."""
    settings = settings or load_settings()
    datasets = load_datasets()
    shared = dg.Definitions(
        sensors=[
            *SENSORS,
            run_owner_sensor,
            build_first_run_sensor(list(datasets.jobs or [])),
        ],
        resources=build_resources(settings),
        executor=tagged_in_process_executor,  # in process, tagging runs with their worker
    )
    return dg.Definitions.merge(datasets, shared)


defs = build_definitions()
