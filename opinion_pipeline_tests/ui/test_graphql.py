"""What a user does in the Dagster UI, done through its GraphQL API against a real webserver and
daemon: browse lineage and the catalog, toggle schedules, rerun a failed sync, read its numbers."""

from __future__ import annotations

import time

from opinion_pipeline.definitions import build_definitions
from opinion_pipeline.defs.whale_stats.tables import WHALE_STATS
from opinion_pipeline.reporting import catalog
from opinion_pipeline.reporting.names import PAYLOAD_CHECK
from opinion_pipeline_tests.ui.ui_fixtures import DagsterDeployment, wait_for

EXPECTED_EDGES = {
    ("whale_registry", "whale_trades"),
    ("whale_trades", "whale_activity"),
    ("whale_trades", "whale_stats"),
    ("whale_trades", "trades_archive"),
    ("whale_activity", "trades_archive"),
}
SEED_ASSETS = {"markets", "whale_registry", "whale_trades", "whale_activity", "whale_stats",
               "trades_archive"}  # fmt: skip
GROUPS = {"ingest", "analytics", "maintenance"}
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
RUN_TIMEOUT_S = 120.0


def wait_finished(ui: DagsterDeployment, run_id: str) -> str:
    status = wait_for(
        lambda: (s := ui.client.run_status(run_id)) in FINISHED and s,
        RUN_TIMEOUT_S,
        f"run {run_id} to finish",
    )
    return status


def metadata(materialization: dict) -> dict[str, dict]:
    return {entry["label"]: entry for entry in materialization["metadataEntries"]}


def test_lineage_shows_the_expected_edges(dagster_ui: DagsterDeployment) -> None:
    nodes = dagster_ui.client.asset_nodes()
    assert set(nodes) >= SEED_ASSETS
    edges = dagster_ui.client.lineage_edges()
    assert edges >= EXPECTED_EDGES, f"missing: {EXPECTED_EDGES - edges}"
    assert nodes["markets"]["dependencyKeys"] == []
    assert {"/".join(k["path"]) for k in nodes["whale_trades"]["dependedByKeys"]} >= {
        "whale_activity", "whale_stats", "trades_archive",
    }  # fmt: skip


def test_catalog_in_the_ui(dagster_ui: DagsterDeployment) -> None:
    """Every asset the UI lists is described, owned, typed, grouped and has its columns."""
    nodes = dagster_ui.client.asset_nodes()
    defined = {spec.key.to_user_string() for spec in build_definitions().resolve_all_asset_specs()}
    assert set(nodes) == defined
    for name, node in nodes.items():
        assert node["description"], name
        assert {"__typename": "TeamAssetOwner", "team": "data-platform"} in node["owners"], name
        assert node["kinds"], name
        assert node["groupName"] in GROUPS, name
        entries = {e["label"]: e for e in node["metadataEntries"]}
        schema = entries.get(catalog.COLUMN_SCHEMA_KEY)
        assert schema and schema["__typename"] == "TableSchemaMetadataEntry", name
        assert all(c["description"] for c in schema["schema"]["columns"]), name
    columns = {
        c["name"]: c["type"]
        for c in metadata(nodes["whale_stats"])[catalog.COLUMN_SCHEMA_KEY]["schema"]["columns"]
    }
    expected = {c.name: c.type for c in catalog.table_schema(WHALE_STATS).columns}
    assert columns == expected


def test_schedules_toggle_and_stay_toggled(dagster_ui: DagsterDeployment) -> None:
    client = dagster_ui.client
    declared = {schedule.name for schedule in build_definitions().schedules}
    schedules = client.schedules()
    assert set(schedules) == declared
    assert {s["scheduleState"]["status"] for s in schedules.values()} == {"RUNNING"}
    try:
        for name in sorted(declared):
            assert client.stop_schedule(name) == "STOPPED"
        assert {n: client.schedule_status(n) for n in declared} == dict.fromkeys(
            declared, "STOPPED"
        )
        # The toggle is stored in the instance, not in the webserver: it survives a restart.
        dagster_ui.restart_webserver()
        assert {n: s["scheduleState"]["status"] for n, s in client.schedules().items()} == (
            dict.fromkeys(declared, "STOPPED")
        )
    finally:
        for name in sorted(declared):
            if client.schedule_status(name) != "RUNNING":
                assert client.start_schedule(name) == "RUNNING"
    assert {n: client.schedule_status(n) for n in declared} == dict.fromkeys(declared, "RUNNING")


def test_materialization_numbers_are_plottable(ui_with_data: DagsterDeployment) -> None:
    """Numeric metadata is Int/Float entries (the UI plots those); previews are markdown."""
    client = ui_with_data.client
    for asset in ("markets", "whale_trades"):
        entries = metadata(client.latest_materialization(asset) or {"metadataEntries": []})
        for label in ("items_fetched", "new_rows", "requests", "retries", "rate_limited_429s"):
            assert entries[label]["__typename"] == "IntMetadataEntry", (asset, label)
        assert entries["seconds"]["__typename"] == "FloatMetadataEntry", asset
        assert entries["dagster/row_count"]["intValue"] > 0, asset
    stats = metadata(client.latest_materialization("whale_stats") or {})
    assert stats["whales"]["__typename"] == "IntMetadataEntry"
    assert stats["top_whales"]["__typename"] == "MarkdownMetadataEntry"
    assert "| whale | wallet | volume USD |" in stats["top_whales"]["mdStr"]
    activity = metadata(client.latest_materialization("whale_activity") or {})
    assert activity["latest"]["__typename"] == "MarkdownMetadataEntry"
    assert activity["new_entries"]["__typename"] == "IntMetadataEntry"


def test_payload_checks_are_reported(ui_with_data: DagsterDeployment) -> None:
    for asset in ("markets", "whale_trades"):
        executions = ui_with_data.client.check_executions(asset, PAYLOAD_CHECK)
        evaluated = [e for e in executions if e["evaluation"]]
        assert evaluated, f"no payload_valid result for {asset}: {executions}"
        latest = evaluated[0]
        assert latest["status"] == "SUCCEEDED" and latest["evaluation"]["success"], latest
        labels = {entry["label"] for entry in latest["evaluation"]["metadataEntries"]}
        assert {"fetched", "quarantined"} <= labels


def test_a_failed_sync_is_rerun_from_the_ui(ui_with_data: DagsterDeployment) -> None:
    """The API fails every request, the sync fails; fixed, a re-execution of that run succeeds."""
    client, simulator = ui_with_data.client, ui_with_data.simulator
    simulator.set_faults(error_rate=1.0)
    try:
        failed = client.launch_job("sync_markets")
        assert wait_finished(ui_with_data, failed) == "FAILURE"
    finally:
        simulator.reset_faults()
    messages = "\n".join(client.failure_messages(failed))
    assert "markets" in messages and "HTTP 5" in messages, messages
    assert not any(m["runId"] == failed for m in client.materializations("markets", limit=5))

    started = time.monotonic()
    rerun = client.reexecute(failed, strategy="FROM_FAILURE")
    assert rerun["parentRunId"] == failed and rerun["rootRunId"] == failed
    assert wait_finished(ui_with_data, rerun["runId"]) == "SUCCESS", client.runs()
    # By run id: a scheduled sync_markets may have materialized just before or after it.
    ours = [m for m in client.materializations("markets", limit=5) if m["runId"] == rerun["runId"]]
    assert ours, client.runs()
    assert metadata(ours[0])["requests"]["intValue"] >= 1
    checks = [e for e in client.check_executions("markets", PAYLOAD_CHECK)
              if e["runId"] == rerun["runId"]]  # fmt: skip
    assert checks and checks[0]["evaluation"]["success"], checks
    assert time.monotonic() - started < RUN_TIMEOUT_S
