"""Freshness policies on the project's assets, and the stale-asset alert sensor.

The sensor reads the policies from the project's real ``defs`` and materialization times from a
real test instance; back-dated materializations stand in for silence, and an explicit ``now``
walks one asset through fresh -> stale -> recovered -> stale again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState, TimeWindowFreshnessPolicy

from opinion_pipeline.automation.sensors import (
    FRESHNESS_SENSOR,
    FRESHNESS_TRIES,
    SENSORS,
    alert_stale_assets,
    freshness_alert_sensor,
    freshness_windows,
)
from opinion_pipeline.definitions import defs
from opinion_pipeline_tests.automation import alerts_workspace
from opinion_pipeline_tests.automation.alerts_daemon import DaemonStack, wait_for
from opinion_pipeline_tests.automation.alerts_fixtures import (
    Reply,
    WebhookReceiver,
    closed_port_url,
    store_materialization,
)

UI_BASE = "http://ui.example:3000"


def json_url(http_url: str) -> str:
    """apprise's generic JSON webhook at this address."""
    return http_url.replace("http://", "json://", 1)


APPRISE_KEYS = {"version", "title", "message", "attachments", "type"}  # apprise's JSON body
EXPECTED_WINDOWS = {"markets": 15 * 60, "whale_trades": 5 * 60, "whale_stats": 2 * 3600}


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        monkeypatch.setenv("OPINION_ALERT_URLS", json_url(server.url) + "/hook")
        monkeypatch.delenv("OPINION_ALERT_WEBHOOK_URL", raising=False)
        monkeypatch.setenv("OPINION_UI_BASE_URL", UI_BASE)
        yield server


class Ticks:
    """Successive sensor evaluations at chosen times, carrying the cursor like the daemon does."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self.cursor: str | None = None

    def at(self, now: float) -> str:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=defs,
            sensor_name=FRESHNESS_SENSOR,
        )
        line = alert_stale_assets(context, now)
        self.cursor = context.cursor
        return line


def stale_keys(receiver: WebhookReceiver) -> list[str]:
    return [body["asset_key"] for body in receiver.bodies("asset_stale")]


def test_project_assets_carry_time_window_policies() -> None:
    graph = defs.get_repository_def().asset_graph
    for key, seconds in EXPECTED_WINDOWS.items():
        policy = graph.get(dg.AssetKey(key)).freshness_policy
        assert isinstance(policy, TimeWindowFreshnessPolicy)
        assert policy.fail_window.to_timedelta().total_seconds() == seconds
    assert EXPECTED_WINDOWS.items() <= freshness_windows(defs.get_repository_def()).items()
    sensor = defs.resolve_sensor_def(FRESHNESS_SENSOR)
    assert sensor in SENSORS
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 60


def test_alerts_once_per_stale_episode(
    instance: dg.DagsterInstance, receiver: WebhookReceiver
) -> None:
    t0 = time.time()
    for key in EXPECTED_WINDOWS:
        store_materialization(instance, key, t0 - 100)
    ticks = Ticks(instance)

    assert "newly stale: none" in ticks.at(t0)
    assert receiver.requests == []

    line = ticks.at(t0 + 250)  # whale_trades is 350 s old, over its 300 s window
    assert "newly stale: whale_trades (delivered)" in line
    [body] = receiver.bodies()
    assert body["title"] == "Asset overdue: whale_trades"
    assert f"Open the asset: {UI_BASE}/assets/whale_trades" in body["message"]
    assert {key: body[key] for key in body if key not in APPRISE_KEYS} == {
        "kind": "asset_stale",
        "asset_key": "whale_trades",
        "fail_window_seconds": 300,
        "last_materialization": body["last_materialization"],
        "overdue_seconds": 50,
        "asset_url": f"{UI_BASE}/assets/whale_trades",
    }
    assert body["last_materialization"].startswith(time.strftime("%Y-", time.gmtime(t0)))

    ticks.at(t0 + 400)
    ticks.at(t0 + 500)
    assert stale_keys(receiver) == ["whale_trades"]  # not repeated every tick

    store_materialization(instance, "whale_trades", t0 + 450)  # recovered
    assert "still stale: none" in ticks.at(t0 + 460)
    assert json.loads(ticks.cursor or "{}")["whale_trades"]["alerted"] is None

    ticks.at(t0 + 450 + 301)  # the new materialization went stale in turn
    assert stale_keys(receiver) == ["whale_trades", "whale_trades"]

    ticks.at(t0 + 1001)  # markets' 15 min window passes; whale_trades is not repeated
    assert stale_keys(receiver) == ["whale_trades", "whale_trades", "markets"]
    assert "whale_stats" not in stale_keys(receiver)


def test_never_materialized_counts_from_first_watch(
    instance: dg.DagsterInstance, receiver: WebhookReceiver
) -> None:
    t0 = time.time()
    ticks = Ticks(instance)
    ticks.at(t0)
    ticks.at(t0 + 299)
    assert receiver.requests == []
    ticks.at(t0 + 301)
    [body] = receiver.bodies()
    assert body["asset_key"] == "whale_trades"
    assert body["last_materialization"] is None
    ticks.at(t0 + 400)
    assert len(receiver.requests) == 1


def test_sensor_definition_on_the_real_clock(
    instance: dg.DagsterInstance, receiver: WebhookReceiver
) -> None:
    now = time.time()
    store_materialization(instance, "whale_trades", now - 600)
    store_materialization(instance, "markets", now - 60)
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    result = freshness_alert_sensor(context)
    assert isinstance(result, dg.SkipReason)  # alerts only, never requests runs
    assert "whale_trades (delivered)" in (result.skip_message or "")
    again = freshness_alert_sensor(context)  # the context now carries the updated cursor
    assert "newly stale: none" in (again.skip_message or "")
    assert stale_keys(receiver) == ["whale_trades"]
    assert 290 <= receiver.bodies()[0]["overdue_seconds"] <= 310


def test_transient_delivery_failure_is_retried_next_tick(
    instance: dg.DagsterInstance, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = time.time()
    store_materialization(instance, "whale_trades", t0 - 400)
    ticks = Ticks(instance)
    monkeypatch.setenv("OPINION_ALERT_URLS", json_url(closed_port_url()))
    assert "whale_trades (failed)" in ticks.at(t0)
    monkeypatch.setenv("OPINION_ALERT_URLS", json_url(receiver.url) + "/hook")
    assert "whale_trades (delivered)" in ticks.at(t0 + 60)
    ticks.at(t0 + 120)
    assert stale_keys(receiver) == ["whale_trades"]


def test_rejected_alert_is_not_resent_every_tick(
    instance: dg.DagsterInstance, receiver: WebhookReceiver
) -> None:
    """A refusal may not heal by itself (apprise cannot tell a 400 from a 503): an episode is
    tried at FRESHNESS_TRIES ticks, then counts as alerted rather than retried every minute."""
    t0 = time.time()
    store_materialization(instance, "whale_trades", t0 - 400)
    receiver.script.extend([Reply(400)] * 4 * FRESHNESS_TRIES)  # 4 attempts per tick
    ticks = Ticks(instance)
    for tick in range(FRESHNESS_TRIES):
        assert "whale_trades (failed)" in ticks.at(t0 + 60 * tick)
    assert "newly stale: none" in ticks.at(t0 + 60 * FRESHNESS_TRIES)
    assert len(receiver.requests) == 4 * FRESHNESS_TRIES


def test_unset_webhook_marks_the_episode(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPINION_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("OPINION_ALERT_URLS", raising=False)
    t0 = time.time()
    store_materialization(instance, "whale_trades", t0 - 400)
    ticks = Ticks(instance)
    assert "whale_trades (not_configured)" in ticks.at(t0)
    assert "newly stale: none" in ticks.at(t0 + 60)


@pytest.mark.timeout(90)
def test_daemon_marks_overdue_and_sensor_alerts_once(tmp_path: Path) -> None:
    """Through a real daemon: the UI's freshness state turns FAIL, the webhook hears it once."""
    key = dg.AssetKey(alerts_workspace.WATCHED_ASSET)
    with WebhookReceiver() as server:
        stack = DaemonStack(tmp_path, f"{server.url}/hook")
        instance = stack.prepare()
        store_materialization(instance, alerts_workspace.WATCHED_ASSET, time.time() - 600)
        try:
            stack.start_code_server()
            stack.start_daemon()

            def state() -> FreshnessState | None:
                record = instance.get_freshness_state_records([key]).get(key)
                return record.freshness_state if record else None

            wait_for(lambda: state() == FreshnessState.FAIL, 30, "the freshness daemon's FAIL")
            [body] = wait_for(lambda: server.bodies("asset_stale"), 30, "the stale alert")
            assert body["asset_key"] == alerts_workspace.WATCHED_ASSET
            assert body["fail_window_seconds"] == 60
            assert body["asset_url"] == f"http://ui.test:3000/assets/{key.to_user_string()}"

            ticks = stack.tick_count(FRESHNESS_SENSOR)
            wait_for(lambda: stack.tick_count(FRESHNESS_SENSOR) >= ticks + 3, 20, "3 more ticks")
            assert len(server.bodies("asset_stale")) == 1  # still stale, not repeated

            instance.report_runless_asset_event(dg.AssetMaterialization(key))  # recovers
            wait_for(lambda: state() == FreshnessState.PASS, 30, "the freshness daemon's PASS")
        finally:
            stack.stop()
