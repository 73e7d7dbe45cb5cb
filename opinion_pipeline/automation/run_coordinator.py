"""The run queue, labelling a run with its owning job's tags when it is submitted.

A "Materialize" click, a backfill or a re-execution of a job's assets runs as ``__ASSET_JOB``
without the job's ``opinion/job`` and ``dagster/max_runtime`` tags. This coordinator (named in
both ``dagster.yaml`` files) adds them before the run is queued, so the queue's per-job limit,
run monitoring and the run list see the run as its job's from the start. The owning job is the
one whose pool the run's assets are in (``pool`` = job name, ``automation.jobs``), read from
the run's execution plan and the code location's job tags: nothing is imported from the
definitions here. The run_owner_tags sensor stays as the fallback (a run submitted while the
code location could not be read).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.run_coordinator.base import SubmitRunContext

from opinion_pipeline.automation.jobs import CONCURRENCY_TAG, MAX_RUNTIME_TAG

logger = logging.getLogger(__name__)


def _job_tags(workspace: Any, job_name: str) -> Mapping[str, str] | None:
    """The tags of the project job ``job_name`` in any loaded code location, if there is one."""
    for entry in workspace.get_code_location_entries().values():
        location = entry.code_location
        if location is None:
            continue
        for repository in location.get_repositories().values():
            if repository.has_job(job_name):
                return repository.get_full_job(job_name).tags
    return None


def launch_owner_tags(run: dg.DagsterRun, workspace: Any) -> dict[str, str]:
    """The owning job's tags for a run that lacks them; none unless exactly one job owns it."""
    if CONCURRENCY_TAG in run.tags or run.run_op_concurrency is None:
        return {}
    owners = {
        pool: tags
        for pool in sorted(run.run_op_concurrency.all_pools or ())
        if (tags := _job_tags(workspace, pool)) is not None
    }
    if len(owners) != 1:
        return {}
    (job_tags,) = owners.values()
    names = [CONCURRENCY_TAG] + ([] if MAX_RUNTIME_TAG in run.tags else [MAX_RUNTIME_TAG])
    return {name: job_tags[name] for name in names if name in job_tags}


class OwnerTaggingRunCoordinator(dg.QueuedRunCoordinator):
    """QueuedRunCoordinator that gives a run its owning job's tags before queueing it."""

    def submit_run(self, context: SubmitRunContext) -> dg.DagsterRun:
        run = context.dagster_run
        if run.status == dg.DagsterRunStatus.NOT_STARTED:
            try:
                tags = launch_owner_tags(run, context.workspace)
            except Exception:  # labelling must never stop a launch; the sensor catches up
                logger.warning("could not read the owning job of run %s", run.run_id, exc_info=True)
                tags = {}
            if tags:
                self._instance.add_run_tags(run.run_id, tags)
                run = run.with_tags({**run.tags, **tags})
                context = SubmitRunContext(run, context.workspace)
        return super().submit_run(context)
