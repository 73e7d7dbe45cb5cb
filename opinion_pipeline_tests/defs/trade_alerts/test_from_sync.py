"""From a real whale sync (the fake client over the simulated world) to alerts over HTTP."""

from __future__ import annotations

import time
from collections import Counter

import dagster as dg
import pytest

from opinion_pipeline.config import load_settings
from opinion_pipeline.defs.trade_alerts.assets import trade_alerts
from opinion_pipeline.defs.whale_registry.assets import whale_registry
from opinion_pipeline.defs.whale_trades.assets import whale_trades
from opinion_pipeline.resources import PipelineTunables
from opinion_pipeline_tests.automation.alerts_fixtures import WebhookReceiver
from opinion_pipeline_tests.fakes import FakeOpinionAPI, small_world

pytestmark = pytest.mark.unit


@pytest.fixture
def world():
    """The world's clock at the real now: its last day of trades is news to the alerts."""
    return small_world(start=int(time.time()), history_days=2.0)


def test_big_trades_of_a_sync_are_alerted_once(world, instance, resources, warehouse, monkeypatch):
    with WebhookReceiver() as receiver:
        monkeypatch.setenv("OPINION_ALERT_URLS", receiver.url.replace("http://", "json://"))
        monkeypatch.setenv("OPINION_ALERT_TRADE_USD", "1000")
        monkeypatch.setenv("OPINION_ALERT_RATE_PER_MINUTE", "1000")  # each alert on its own
        api = FakeOpinionAPI.over(world)
        synced = dg.materialize(
            [whale_registry, whale_trades],
            instance=instance,
            resources={**resources, "opinion_api": api},
        )
        assert synced.success
        with warehouse.reader() as session:
            [(expected,)] = session.query(
                "SELECT count(*) FROM whale_activity WHERE usd_value >= 1000 "
                "AND created_at >= detected_at - INTERVAL 24 HOUR"
            )
            [(history,)] = session.query("SELECT count(*) FROM whale_activity")
        assert 0 < expected < history  # some news, some history
        for _ in range(2):
            pipeline = PipelineTunables.from_settings(load_settings())
            run = dg.materialize(
                [trade_alerts],
                instance=instance,
                resources={"warehouse": warehouse, "pipeline": pipeline},
            )
            assert run.success
        sent = Counter(request.json()["event_key"] for request in receiver.requests)
    assert len(sent) == expected and set(sent.values()) == {1}
