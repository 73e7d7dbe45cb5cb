"""Runs launched outside their job (a UI "Materialize", a backfill) get their job's tags.

A "Materialize" click runs as ``__ASSET_JOB``, without the job's ``opinion/job`` and
``dagster/max_runtime`` tags: run monitoring would give it the instance's 30-minute default
instead of the job's limit, and the sync log would list it under ``__ASSET_JOB``. The one-at-a-
time rule itself does not depend on this (every asset is in its job's concurrency pool, which the
run queue enforces for every run). The run coordinator (``run_coordinator.py``) labels such runs
as they are queued; this sensor is the fallback for a run it could not label (a code location
not loaded at submission, an instance configured with Dagster's own coordinator), within
seconds: each asset's pool names its job (``automation.jobs``), and the job's tags are copied.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import dagster as dg

from opinion_pipeline.automation.jobs import CONCURRENCY_TAG, MAX_RUNTIME_TAG

RUN_OWNER_SENSOR = "run_owner_tags"
LOOKBACK_S = 600  # runs updated this long before the last evaluation are looked at again
MAX_RUNS_PER_TICK = 200


def owning_jobs(run: dg.DagsterRun, repository: dg.RepositoryDefinition) -> list[str]:
    """The project jobs whose assets the run materializes (their pools), sorted."""
    pools: set[str] = set()
    if run.run_op_concurrency is not None and run.run_op_concurrency.all_pools:
        pools = set(run.run_op_concurrency.all_pools)
    elif run.asset_selection:
        graph = repository.asset_graph
        for key in run.asset_selection:
            if graph.has(key):
                pools |= set(graph.get(key).pools or ())
    return sorted(pool for pool in pools if repository.has_job(pool))


def owner_tags(run: dg.DagsterRun, repository: dg.RepositoryDefinition) -> dict[str, str]:
    """Tags to add: the owning job's, when exactly one job owns the run's assets; else none."""
    if CONCURRENCY_TAG in run.tags:
        return {}
    jobs = owning_jobs(run, repository)
    if len(jobs) != 1:
        return {}
    job_tags = repository.get_job(jobs[0]).tags
    names = [CONCURRENCY_TAG] + ([] if MAX_RUNTIME_TAG in run.tags else [MAX_RUNTIME_TAG])
    return {name: job_tags[name] for name in names if name in job_tags}


def tag_runs(
    instance: dg.DagsterInstance, repository: dg.RepositoryDefinition, since: float
) -> list[str]:
    """Add owner tags to every run updated since ``since`` that lacks them; the run ids tagged."""
    records = instance.get_run_records(
        dg.RunsFilter(updated_after=_utc(since)), limit=MAX_RUNS_PER_TICK
    )
    tagged = []
    for record in records:
        run = record.dagster_run
        tags = owner_tags(run, repository)
        if tags:
            instance.add_run_tags(run.run_id, tags)
            tagged.append(f"{run.run_id[:8]} -> {tags[CONCURRENCY_TAG]}")
    return tagged


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def build_run_owner_sensor(minimum_interval_seconds: int = 5) -> dg.SensorDefinition:
    @dg.sensor(
        name=RUN_OWNER_SENSOR,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Gives runs launched outside their job (a UI Materialize, a backfill) the owning "
            "job's opinion/job and dagster/max_runtime tags, so run monitoring and sync-log "
            "treat them as that job's runs."
        ),
    )
    def _run_owner_tags(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        now = time.time()
        state = json.loads(context.cursor) if context.cursor else {}
        since = float(state.get("checked_at", now - LOOKBACK_S)) - LOOKBACK_S
        tagged = tag_runs(context.instance, context.repository_def, since)
        context.update_cursor(json.dumps({"checked_at": now}))
        return dg.SkipReason(f"tagged: {', '.join(tagged) or 'none'}")

    return _run_owner_tags


run_owner_sensor = build_run_owner_sensor()
