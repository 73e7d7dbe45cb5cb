"""The run queue, labelling a run with its owning job's tags when it is submitted.

A "Materialize" click, a backfill or a re-execution of a job's assets runs as ``__ASSET_JOB``
without the job's ``opinion/job`` and ``dagster/max_runtime`` tags. This coordinator (named in
both ``dagster.yaml`` files) adds them before the run is queued, so the queue's per-job limit,
run monitoring and the run list see the run as its job's from the start. The owning job is the
one whose pool the run's assets are in (``pool`` = job name, ``automation.jobs``), read from
the run's execution plan and the code location's job tags: nothing is imported from the
definitions here. The run_owner_tags sensor stays as the fallback (a run submitted while the
code location could not be read).

A re-execution copies its parent's tags, among them ``dagster/schedule_name`` (or
``dagster/sensor_name``), so the UI would say "Launched by <schedule>" for a run a user started.
Dagster has no call to remove a run tag, so the coordinator rewrites the stored run itself (run
body and run_tags rows in one transaction, through the SQL run storage that both the SQLite and
the PostgreSQL instance use) and names the parent in ``opinion/reexecution_of`` instead.

``dequeue_poll_seconds`` lets the queue daemon poll every half second: Dagster's own
``dequeue_interval_seconds`` takes whole seconds, and a scheduled run waits half a poll on
average before it is launched (BENCHMARKS.md "Orchestration").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
import sqlalchemy as db
from dagster._config import UserConfigSchema
from dagster._core.run_coordinator.base import SubmitRunContext
from dagster._core.storage.runs.schema import RunsTable, RunTagsTable
from dagster._core.storage.runs.sql_run_storage import SqlRunStorage
from dagster._core.storage.tags import (
    PARENT_RUN_ID_TAG,
    RETRY_NUMBER_TAG,
    SCHEDULE_NAME_TAG,
    SENSOR_NAME_TAG,
    TICK_ID_TAG,
)
from dagster._serdes import serialize_value
from dagster._time import get_current_datetime

from opinion_pipeline.automation.jobs import CONCURRENCY_TAG, MAX_RUNTIME_TAG

logger = logging.getLogger(__name__)
REEXECUTION_OF_TAG = "opinion/reexecution_of"
LAUNCHER_TAGS = (SCHEDULE_NAME_TAG, SENSOR_NAME_TAG, TICK_ID_TAG)  # inherited, untrue on a rerun


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


@contextmanager
def _transaction(storage: SqlRunStorage) -> Iterator[db.engine.Connection]:
    """One transaction on the run storage (SQLite connect() begins one; PostgreSQL autocommits)."""
    with storage.connect() as conn:
        if conn.in_transaction():
            yield conn
        else:
            conn = conn.execution_options(isolation_level="READ COMMITTED")
            with conn.begin():
                yield conn


def relabel_reexecution(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRun:
    """A UI re-execution without its parent's schedule/sensor tags, naming the parent instead.

    Automatic retries (``dagster/retry_number``) are the launcher's own doing and keep them.
    """
    parent = run.tags.get(PARENT_RUN_ID_TAG)
    if parent is None or RETRY_NUMBER_TAG in run.tags:
        return run
    dropped = [key for key in LAUNCHER_TAGS if key in run.tags]
    if not dropped and run.tags.get(REEXECUTION_OF_TAG) == parent:
        return run
    storage = instance.run_storage
    if not isinstance(storage, SqlRunStorage):
        logger.warning(
            "run %s keeps its parent's tags %s: run storage %s is not SQL",
            run.run_id, dropped, type(storage).__name__,
        )  # fmt: skip
        return run
    tags = {k: v for k, v in run.tags.items() if k not in dropped}
    tags[REEXECUTION_OF_TAG] = parent
    relabelled = run.with_tags(tags)
    own_rows = RunTagsTable.c.run_id == run.run_id
    with _transaction(storage) as conn:
        conn.execute(
            RunsTable.update()
            .where(RunsTable.c.run_id == run.run_id)
            .values(run_body=serialize_value(relabelled), update_timestamp=get_current_datetime())
        )
        conn.execute(
            RunTagsTable.delete().where(
                db.and_(own_rows, RunTagsTable.c.key.in_([*dropped, REEXECUTION_OF_TAG]))
            )
        )
        conn.execute(
            RunTagsTable.insert().values(run_id=run.run_id, key=REEXECUTION_OF_TAG, value=parent)
        )
    return relabelled


class OwnerTaggingRunCoordinator(dg.QueuedRunCoordinator):
    """QueuedRunCoordinator that gives a run its owning job's tags before queueing it."""

    _dequeue_poll_seconds: float | None = None

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        return {
            **super().config_type(),
            "dequeue_poll_seconds": dg.Field(
                float,
                is_required=False,
                description=(
                    "Seconds between two polls of the queue, in place of dequeue_interval_seconds "
                    "(whole seconds). The daemon checks its interval every 0.5 s: 0.5 is the "
                    "shortest that changes anything."
                ),
            ),
        }

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> Any:
        coordinator = super().from_config_value(inst_data, config_value)
        coordinator._dequeue_poll_seconds = config_value.get("dequeue_poll_seconds")
        return coordinator

    @property
    def dequeue_interval_seconds(self) -> float:  # type: ignore[override]  # the daemon's interval
        return self._dequeue_poll_seconds or super().dequeue_interval_seconds

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
            try:
                relabelled = relabel_reexecution(self._instance, run)
            except Exception:  # a wrong label must never stop a launch
                logger.warning("could not relabel re-execution %s", run.run_id, exc_info=True)
                relabelled = run
            run = relabelled
            if run is not context.dagster_run:
                context = SubmitRunContext(run, context.workspace)
        return super().submit_run(context)
