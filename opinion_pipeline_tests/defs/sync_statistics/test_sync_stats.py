"""Sync statistics from real runs on a real instance: counts, success rate, durations, 429s."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from opinion_pipeline.defs.sync_statistics.stats import compute_sync_stats, stats_markdown
from opinion_pipeline.run_log.summary import percentile
from opinion_pipeline_tests.pipeline.helpers import run_job


def test_percentile_interpolates():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.85)
    assert percentile(range(101), 0.95) == pytest.approx(95.0)


def _materialized_total(instance: dg.DagsterInstance, asset: str, name: str) -> int:
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=100).records
    return sum(r.asset_materialization.metadata[name].value for r in records)


def test_hourly_statistics_from_real_runs(pipeline_env, simulator, instance, monkeypatch, api_key):
    assert run_job(instance, "sync_markets").success
    simulator.set_faults(burst_429=2)  # the next two requests are refused with 429, then retried
    assert run_job(instance, "sync_markets").success
    monkeypatch.setenv("OPINION_API_KEY", "sk-refused-" + api_key[::-1])
    assert not run_job(instance, "sync_markets").success
    monkeypatch.setenv("OPINION_API_KEY", api_key)
    assert run_job(instance, "mark_inactive_whales").success

    result = run_job(instance, "compute_sync_statistics")
    assert result.success
    metadata = {
        name: value.value
        for name, value in result.asset_materializations_for_node("sync_statistics")[
            0
        ].metadata.items()
    }
    requests = _materialized_total(instance, "markets", "requests")
    assert requests > 2
    assert metadata["requests"] == requests
    assert metadata["rate_limited_429s"] == 2
    assert metadata["runs"] == 5  # four above, and this one, still in progress
    assert metadata["in_progress"] == 1
    assert metadata["failed"] == 1 and metadata["succeeded"] == 3
    assert metadata["success_rate"] == pytest.approx(0.75)
    assert metadata["jobs"] == 3
    table = metadata["by_job"]
    markets_row = next(line for line in table.splitlines() if line.startswith("| sync\\_markets"))
    cells = [cell.strip() for cell in markets_row.strip("|").split("|")]
    assert cells[1:4] == ["3", "66\\.7%", "1"]
    assert "401" in markets_row or "refused" in markets_row, "the last failure is shown"

    # The statistics' own totals (same names) are never counted as a sync's numbers.
    again = (
        run_job(instance, "compute_sync_statistics")
        .asset_materializations_for_node("sync_statistics")[0]
        .metadata
    )
    assert again["requests"].value == requests and again["runs"].value == 6


def test_window_durations_and_per_job_numbers(pipeline_env, simulator, instance):
    assert run_job(instance, "mark_inactive_whales").success
    time.sleep(1.1)
    since = datetime.now(timezone.utc)
    for _ in range(3):
        assert run_job(instance, "sync_markets").success
    now = datetime.now(timezone.utc)
    stats = {s.job_name: s for s in compute_sync_stats(instance, since, now)}
    assert set(stats) == {"sync_markets"}, "runs created before the window are left out"
    markets = stats["sync_markets"]
    records = instance.get_run_records(dg.RunsFilter(job_name="sync_markets"))
    durations = [r.end_time - r.start_time for r in records]
    assert markets.runs == 3 and markets.succeeded == 3 and markets.success_rate == 1.0
    assert markets.p50_s == pytest.approx(statistics.median(durations))
    assert min(durations) <= markets.p50_s <= markets.p95_s <= max(durations)
    assert markets.requests == _materialized_total(instance, "markets", "requests")
    everything = compute_sync_stats(instance, now - timedelta(hours=1), now)
    assert {s.job_name for s in everything} == {"sync_markets", "mark_inactive_whales"}
    assert "sync\\_markets" in stats_markdown(everything)


@pytest.mark.unit
def test_a_ui_run_counts_under_the_job_that_owns_its_assets():
    from opinion_pipeline.definitions import defs

    repository = defs.get_repository_def()
    with dg.instance_for_test() as instance:
        since = datetime.now(timezone.utc) - timedelta(seconds=1)
        instance.create_run_for_job(  # a "Materialize" click, as the run_owner_tags sensor left it
            repository.get_implicit_global_asset_job_def(),
            asset_selection=frozenset({dg.AssetKey("markets")}),
            tags={"opinion/job": "sync_markets"},
        )
        now = datetime.now(timezone.utc) + timedelta(seconds=1)
        stats = compute_sync_stats(instance, since, now)
        assert [(s.job_name, s.runs) for s in stats] == [("sync_markets", 1)]
