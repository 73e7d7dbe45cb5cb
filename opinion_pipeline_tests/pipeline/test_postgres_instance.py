"""A sync on a Dagster instance whose storage is PostgreSQL (deploy/postgres/dagster.yaml)."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from opinion_pipeline.definitions import build_definitions
from opinion_pipeline_tests.pipeline.helpers import ROOT, run_job
from opinion_pipeline_tests.postgres import temporary_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_instance(tmp_path, monkeypatch):
    with temporary_database() as settings:
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield instance


def test_scheduled_sync_cycle_on_a_postgres_instance(pipeline_env, postgres_instance):
    instance = postgres_instance
    assert "Postgres" in type(instance.run_storage).__name__
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("sync_whale_trades_schedule")
    tick = schedule.evaluate_tick(dg.build_schedule_context(instance=instance))
    assert tick.run_requests, tick.skip_message
    result = run_job(instance, "sync_whale_trades", tags=dict(tick.run_requests[0].tags))
    assert result.success

    records = instance.get_run_records(dg.RunsFilter(job_name="sync_whale_trades"))
    assert [record.dagster_run.status for record in records] == [dg.DagsterRunStatus.SUCCESS]
    event = instance.get_latest_materialization_event(dg.AssetKey("whale_trades"))
    assert event is not None and event.asset_materialization.metadata["new_rows"].value > 0
