"""The first-run sensor fills an empty instance once, in dependency order."""

from __future__ import annotations

import dagster as dg

from opinion_pipeline.automation.first_run import build_first_run_sensor
from opinion_pipeline.definitions import load_datasets

first_run_sensor = build_first_run_sensor(list(load_datasets().jobs or []))


def _requested_jobs(instance: dg.DagsterInstance) -> list[str]:
    result = first_run_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    return sorted(request.job_name for request in result.run_requests or [])


def _materialize(instance: dg.DagsterInstance, asset: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset))


def test_first_run_requests_each_job_once_in_dependency_order():
    with dg.instance_for_test() as instance:
        assert _requested_jobs(instance) == ["sync_markets", "sync_whale_trades"]
        _materialize(instance, "whale_trades")
        assert _requested_jobs(instance) == ["compute_whale_stats", "sync_markets"]
        _materialize(instance, "markets")
        _materialize(instance, "whale_stats")
        result = first_run_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert not result.run_requests
        assert "at least once" in result.skip_message


def test_first_runs_carry_run_keys_so_they_happen_once():
    with dg.instance_for_test() as instance:
        result = first_run_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert {request.run_key for request in result.run_requests} == {
            "first-run-sync_markets",
            "first-run-sync_whale_trades",
        }
