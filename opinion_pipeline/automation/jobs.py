"""How every job of the project is declared: one asset job per schedule, with its limits.

Every job runs in one process (``in_process_executor`` is set on the Definitions): a step per
process would spend seconds importing dagster, pandas and duckdb, every minute. The
``dagster/max_runtime`` tag lets run monitoring fail a run that hangs; the ``opinion/job`` tag
lets the run queue hold one run per job at a time (dagster.yaml).

Every asset also names its job as its concurrency ``pool`` (``pool="<job name>"``): the run queue
applies pool limits to every run, including a UI "Materialize" (``__ASSET_JOB``, which carries
no job tag), a re-execution or a backfill, so the one-at-a-time rule holds however a run starts.
"""

from __future__ import annotations

import dagster as dg

CONCURRENCY_TAG = "opinion/job"
MAX_RUNTIME_TAG = "dagster/max_runtime"


def job_tags(job_name: str, max_runtime_s: int) -> dict[str, str]:
    return {CONCURRENCY_TAG: job_name, MAX_RUNTIME_TAG: str(max_runtime_s)}


def asset_job(
    name: str, assets: list[str], *, description: str, max_runtime_s: int
) -> dg.UnresolvedAssetJobDefinition:
    """An asset job over ``assets`` with the project's tags."""
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.assets(*assets),
        description=description,
        tags=job_tags(name, max_runtime_s),
    )
