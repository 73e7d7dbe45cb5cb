"""A sensor that fills an empty installation at once instead of waiting for each schedule.

On a fresh instance the hourly stats and the daily retention would otherwise first run up to an
hour or a day later. For each scheduled job whose assets were never materialized, this sensor
requests one run (a run key makes it once per instance), after the job's upstream assets exist.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

# job -> (asset it produces, assets that must exist first)
FIRST_RUNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sync_markets": ("markets", ()),
    "sync_whale_trades": ("whale_trades", ()),
    "compute_whale_stats": ("whale_stats", ("whale_trades",)),
}


def _materialized(instance: dg.DagsterInstance, asset: str) -> bool:
    return instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None


def build_first_run_sensor(jobs: Sequence[dg.UnresolvedAssetJobDefinition]) -> dg.SensorDefinition:
    """The sensor over ``jobs`` (those named in FIRST_RUNS), as the Definitions load them."""
    targets = [job for job in jobs if job.name in FIRST_RUNS]

    @dg.sensor(
        name="first_run_sensor",
        minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs each job once on a fresh instance, so data shows within minutes.",
        jobs=targets,
    )
    def first_run_sensor(context: dg.SensorEvaluationContext):
        requests = []
        for job_name, (asset, upstream) in FIRST_RUNS.items():
            if _materialized(context.instance, asset):
                continue
            if not all(_materialized(context.instance, name) for name in upstream):
                continue
            requests.append(dg.RunRequest(run_key=f"first-run-{job_name}", job_name=job_name))
        if not requests:
            return dg.SkipReason("every job has materialized its assets at least once")
        return requests

    return first_run_sensor
