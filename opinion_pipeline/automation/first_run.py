"""A sensor that fills an empty installation at once instead of waiting for each schedule.

On a fresh instance the hourly stats, the daily maintenance and the half-hourly health check
would otherwise first run up to a day later, and the lineage would stay grey until then. For
every job whose assets were never all materialized, this sensor requests one run (a run key
makes it once per instance), as soon as the assets it reads from other jobs exist: the order
comes from the asset graph (whale_stats after whale_trades, the archive after the trades), plus
:data:`WAIT_FOR` for jobs that read the warehouse without declaring an asset dependency.
The :data:`HOUSEKEEPING` jobs are queued behind the others, so that on a small machine the data a
new user looks at first (markets, trades, stats) is not kept waiting by the archive or the health
check.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

# Jobs that read what the ingest jobs write without an asset dependency: on an empty warehouse
# the health check would report "no warehouse" and the sync statistics would count nothing.
INGEST_ASSETS = ("markets", "whale_trades")
WAIT_FOR: dict[str, tuple[str, ...]] = {
    "health_check": INGEST_ASSETS,
    "compute_sync_statistics": INGEST_ASSETS,
    "prune_run_history": INGEST_ASSETS,
}
# Jobs that keep the installation tidy rather than show the market. The run queue starts higher
# ``dagster/priority`` first (default 0), so their first runs wait while data runs are queued.
HOUSEKEEPING = (
    "cleanup_old_activity", "compute_sync_statistics", "health_check", "mark_inactive_whales",
    "prune_run_history",
)  # fmt: skip
PRIORITY_TAG = "dagster/priority"
HOUSEKEEPING_PRIORITY = "-1"


def first_run_plan(
    repository: dg.RepositoryDefinition, job_names: Sequence[str]
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """job -> (assets it materializes, assets that must exist first), for each job named."""
    graph = repository.asset_graph
    plan: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for name in job_names:
        keys = set(repository.get_job(name).asset_layer.selected_asset_keys)
        parents = {
            parent.to_user_string()
            for key in keys
            for parent in graph.get(key).parent_keys
            if parent not in keys
        }
        upstream = sorted(parents | set(WAIT_FOR.get(name, ())))
        plan[name] = (tuple(sorted(key.to_user_string() for key in keys)), tuple(upstream))
    return plan


def _materialized(instance: dg.DagsterInstance, asset: str) -> bool:
    return instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None


def build_first_run_sensor(jobs: Sequence[dg.UnresolvedAssetJobDefinition]) -> dg.SensorDefinition:
    """The sensor over every job in ``jobs``, ordered by the asset graph it is loaded with."""
    job_names = [job.name for job in jobs]

    @dg.sensor(
        name="first_run_sensor",
        minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "On a fresh instance, runs every job once whose assets were never materialized, "
            "each after the assets it reads exist, so every asset shows data within minutes."
        ),
        jobs=list(jobs),
    )
    def first_run_sensor(context: dg.SensorEvaluationContext):
        if context.repository_def is None:
            return dg.SkipReason("no repository to read the jobs' assets from")
        plan = first_run_plan(context.repository_def, job_names)
        requests = []
        for job_name, (produced, upstream) in plan.items():
            if all(_materialized(context.instance, asset) for asset in produced):
                continue
            if not all(_materialized(context.instance, name) for name in upstream):
                continue
            tags = {PRIORITY_TAG: HOUSEKEEPING_PRIORITY} if job_name in HOUSEKEEPING else {}
            requests.append(
                dg.RunRequest(run_key=f"first-run-{job_name}", job_name=job_name, tags=tags)
            )
        if not requests:
            return dg.SkipReason("every job has materialized its assets at least once")
        return requests

    return first_run_sensor
