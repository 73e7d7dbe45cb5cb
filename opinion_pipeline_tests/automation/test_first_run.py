"""The first-run sensor fills an empty instance once: every job, in dependency order."""

from __future__ import annotations

import dagster as dg
import pytest

from opinion_pipeline.automation.first_run import HOUSEKEEPING, PRIORITY_TAG
from opinion_pipeline.definitions import defs

pytestmark = pytest.mark.unit
REPOSITORY = defs.get_repository_def()
first_run_sensor = REPOSITORY.get_sensor_def("first_run_sensor")
JOBS = sorted(name for name in REPOSITORY.job_names if not name.startswith("__"))


def _evaluate(instance: dg.DagsterInstance):
    context = dg.build_sensor_context(instance=instance, repository_def=REPOSITORY)
    return first_run_sensor.evaluate_tick(context)


def _requested_jobs(instance: dg.DagsterInstance) -> list[str]:
    return sorted(request.job_name for request in _evaluate(instance).run_requests or [])


def _materialize(instance: dg.DagsterInstance, *assets: str) -> None:
    for asset in assets:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset))


# Jobs whose assets read nothing the others make first: requested on the first tick.
ROOTS = {"discover_whales", "sync_markets"}
# Jobs that wait for assets of more than the two syncs (PnL reads the positions).
LATE = {"compute_whale_pnl"}
# Jobs that wait for the analytics too (trade alerts read whale_skill and position_changes).
LAST = {"deliver_trade_alerts"}


def test_first_run_requests_every_job_once_in_dependency_order():
    assert len(JOBS) == 12
    with dg.instance_for_test() as instance:
        assert _requested_jobs(instance) == sorted(ROOTS)
        _materialize(instance, "whale_candidates")
        assert _requested_jobs(instance) == ["sync_markets", "sync_whale_trades"]
        _materialize(instance, "whale_registry", "whale_trades", "whale_activity")
        assert _requested_jobs(instance) == [
            "cleanup_old_activity", "compute_whale_stats", "mark_inactive_whales", "sync_markets",
        ]  # fmt: skip
        _materialize(instance, "markets")
        after_syncs = set(JOBS) - ROOTS - {"sync_whale_trades"} - LATE - LAST
        assert set(_requested_jobs(instance)) == after_syncs
        _materialize(instance, "whale_positions", "position_changes")
        assert set(_requested_jobs(instance)) == after_syncs - {"snapshot_whale_positions"} | LATE
        _materialize(instance, "whale_stats", "trades_archive", "whale_status", "pipeline_health",
                     "sync_statistics", "run_history_archive", "whale_pnl",
                     "whale_skill", "market_flows")  # fmt: skip
        assert _requested_jobs(instance) == sorted(LAST)
        _materialize(instance, "trade_alerts")
        result = _evaluate(instance)
        assert not result.run_requests
        assert "at least once" in result.skip_message


def test_every_job_is_covered_and_first_runs_happen_once():
    with dg.instance_for_test() as instance:
        _materialize(instance, "markets", "whale_candidates", "whale_registry", "whale_trades",
                     "whale_activity")  # fmt: skip
        requested = {request.run_key for request in _evaluate(instance).run_requests}
        expected = set(JOBS) - ROOTS - {"sync_whale_trades"} - LATE - LAST
        assert requested == {f"first-run-{job}" for job in expected}


def test_housekeeping_first_runs_queue_behind_the_data_jobs():
    assert set(HOUSEKEEPING) <= set(JOBS), "every housekeeping job exists"
    with dg.instance_for_test() as instance:
        _materialize(instance, "markets", "whale_candidates", "whale_registry", "whale_trades",
                     "whale_activity")  # fmt: skip
        priority = {
            request.job_name: int(request.tags.get(PRIORITY_TAG, "0"))
            for request in _evaluate(instance).run_requests
        }
    behind = {job for job, value in priority.items() if value < 0}
    assert behind == set(HOUSEKEEPING)
    assert priority["compute_whale_stats"] == 0, "the stats a new user looks at go first"
