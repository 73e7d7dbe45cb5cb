"""How every job of the project is declared: one asset job per schedule, with its limits.

Every job runs in one process (``in_process_executor`` is set on the Definitions): a step per
process would spend seconds importing dagster, pandas and duckdb, every minute. The
``dagster/max_runtime`` tag lets run monitoring fail a run that hangs; the ``opinion/job`` tag
lets the run queue hold one run per job at a time (dagster.yaml).
"""

from __future__ import annotations

import dagster as dg

CONCURRENCY_TAG = "opinion/job"


def job_tags(job_name: str, max_runtime_s: int) -> dict[str, str]:
    return {CONCURRENCY_TAG: job_name, "dagster/max_runtime": str(max_runtime_s)}


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
