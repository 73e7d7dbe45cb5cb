"""The trade_alerts asset in a real Dagster instance: metadata counts, the WARN check, no URL."""

from __future__ import annotations

import dagster as dg
import pytest

from opinion_pipeline.config import load_settings
from opinion_pipeline.defs.trade_alerts.assets import DELIVERED_CHECK, trade_alerts
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline_tests.automation.alerts_fixtures import Reply, WebhookReceiver
from opinion_pipeline_tests.defs.trade_alerts.alerts_data import plant_big_trades

pytestmark = pytest.mark.unit

TOKEN = "T0ASSET/B0ASSET/tokenvalue555"


def _materialize(instance, warehouse) -> dg.ExecuteInProcessResult:
    """As the definitions bind it: the tunables from this test's environment."""
    pipeline = PipelineTunables.from_settings(load_settings())
    return dg.materialize(
        [trade_alerts], instance=instance, resources={"warehouse": warehouse, "pipeline": pipeline}
    )


def test_the_trade_threshold_falls_back_to_the_whale_alert_threshold(monkeypatch):
    monkeypatch.delenv("OPINION_ALERT_TRADE_USD", raising=False)
    monkeypatch.setenv("OPINION_WHALE_ALERT_USD", "12345")
    assert PipelineTunables.from_settings(load_settings()).alert_trade_usd == 12345
    monkeypatch.setenv("OPINION_ALERT_TRADE_USD", "777")
    assert PipelineTunables.from_settings(load_settings()).alert_trade_usd == 777


def _everything_logged(instance, result) -> str:
    records = instance.all_logs(result.run_id)
    return "\n".join(str(record) for record in records)


def test_metadata_counts_and_a_warning_check_on_failures(warehouse, monkeypatch):
    plant_big_trades(warehouse, 3)
    with WebhookReceiver() as receiver, dg.instance_for_test() as instance:
        url = receiver.url.replace("http://", "json://") + "/" + TOKEN
        monkeypatch.setenv("OPINION_ALERT_URLS", url)
        monkeypatch.setenv("OPINION_ALERT_TRADE_USD", "20000")
        receiver.script.extend([Reply(500)] * 4)  # the first alert's attempts all fail
        result = _materialize(instance, warehouse)
        assert result.success  # a failed delivery never fails the run
        [materialization] = result.asset_materializations_for_node("trade_alerts")
        meta = {key: value.value for key, value in materialization.metadata.items()}
        # the first alert failed (4 attempts); the channel gets nothing more this run
        assert (meta["events"], meta["delivered"], meta["failed"]) == (3, 0, 1)
        assert meta["trade_usd"] == 20000
        [check] = result.get_asset_check_evaluations()
        assert check.check_name == DELIVERED_CHECK and not check.passed
        assert check.severity == dg.AssetCheckSeverity.WARN
        assert TOKEN not in (check.description or "")

        with warehouse.connection() as conn:  # a failed alert waits a minute: let it pass
            conn.execute("UPDATE alert_ledger SET claimed_at = claimed_at - INTERVAL 2 MINUTE")
        healed = _materialize(instance, warehouse)
        [again] = healed.get_asset_check_evaluations()
        assert again.passed
        [materialization] = healed.asset_materializations_for_node("trade_alerts")
        assert materialization.metadata["delivered"].value == 3
        logged = _everything_logged(instance, result) + _everything_logged(instance, healed)
    assert len([r for r in receiver.requests if r.raw]) == 4 + 3
    for secret in (TOKEN, "tokenvalue555", "B0ASSET"):
        assert secret not in logged
        assert secret not in str(materialization.metadata)


def test_a_run_without_channels_says_so_in_its_metadata(warehouse, monkeypatch):
    plant_big_trades(warehouse, 2)
    monkeypatch.delenv("OPINION_ALERT_URLS", raising=False)
    monkeypatch.delenv("OPINION_ALERT_WEBHOOK_URL", raising=False)
    with dg.instance_for_test() as instance:
        result = _materialize(instance, warehouse)
    assert result.success
    [materialization] = result.asset_materializations_for_node("trade_alerts")
    meta = {key: value.value for key, value in materialization.metadata.items()}
    assert meta["delivered"] == 0
    assert meta["channels"] == (
        f"No channel configured (set OPINION_ALERT_URLS): {meta['events']} event(s) not sent."
    )
    assert meta["events"] >= 2
