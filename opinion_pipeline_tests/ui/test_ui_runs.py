"""Runs started from the UI obey the same one-at-a-time rule as scheduled ones (issue #11).

Against the real webserver and daemon with the shipped dagster.yaml: a "Materialize" click
(``__ASSET_JOB``, no job tag) launched while a whale sync runs waits in the queue, and is then
labelled as a run of the job that owns its assets.
"""

from __future__ import annotations

import itertools

import dagster as dg

from opinion_pipeline.cli import sync_log
from opinion_pipeline_tests.ui.ui_fixtures import DagsterDeployment, wait_for

WHALE_POOL = "sync_whale_trades"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def _whale_runs(instance: dg.DagsterInstance) -> list[dg.RunRecord]:
    """Every run holding the whale sync's pool: its job's runs and UI runs of its assets."""
    records = instance.get_run_records(limit=200)
    return [
        record
        for record in records
        if record.dagster_run.run_op_concurrency is not None
        and WHALE_POOL in (record.dagster_run.run_op_concurrency.all_pools or ())
    ]


def test_a_ui_materialization_waits_for_the_running_whale_sync(
    ui_with_data: DagsterDeployment,
) -> None:
    client, simulator = ui_with_data.client, ui_with_data.simulator
    simulator.set_faults(latency_ms=1200)  # a sync of several seconds, so the two would overlap
    try:
        scheduled = client.launch_job("sync_whale_trades")
        wait_for(lambda: client.run_status(scheduled) == "STARTED", 120, "the whale sync to start")
        clicked = client.materialize("whale_trades", "whale_activity")  # one multi-asset
        with dg.DagsterInstance.from_config(str(ui_with_data.home)) as instance:
            queued_tags = instance.get_run_by_id(clicked).tags
        assert queued_tags.get("opinion/job") == WHALE_POOL, "labelled as it was queued"
        while (status := client.run_status(scheduled)) not in FINISHED:
            assert client.run_status(clicked) in ("QUEUED", "NOT_STARTED"), client.runs()
        assert status == "SUCCESS", client.runs()
        wait_for(lambda: client.run_status(clicked) in FINISHED, 120, "the UI run to finish")
    finally:
        simulator.reset_faults()
    assert client.run_status(clicked) == "SUCCESS", client.runs()
    with dg.DagsterInstance.from_config(str(ui_with_data.home)) as instance:
        first = instance.get_run_record_by_id(scheduled)
        second = instance.get_run_record_by_id(clicked)
        assert second.dagster_run.job_name == "__ASSET_JOB"
        assert second.start_time >= first.end_time, "the UI run started after the sync ended"
        # No two runs holding the whale pool were ever in progress together.
        spans = sorted(
            (record.start_time, record.end_time)
            for record in _whale_runs(instance)
            if record.start_time is not None and record.end_time is not None
        )
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, spans

        def labelled() -> bool:
            tags = instance.get_run_by_id(clicked).tags
            owner, runtime = tags.get("opinion/job"), tags.get("dagster/max_runtime")
            return owner == WHALE_POOL and runtime == "300"

        assert labelled(), "the UI run carries the job's tags"
        listed = sync_log.collect(instance, ["sync_whale_trades"], [], None, 50)
        assert clicked in {summary.run_id for summary in listed["sync_whale_trades"]}
        under_asset_job = sync_log.collect(instance, ["__ASSET_JOB"], [], None, 50)
        assert clicked not in {s.run_id for s in under_asset_job.get("__ASSET_JOB", [])}
