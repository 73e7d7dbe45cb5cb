"""Trade alerts end to end in process: real DuckDB file, apprise over real HTTP on loopback.

The receiver is the one the operational alert tests use (``automation.alerts_fixtures``);
channels are apprise ``json://`` webhooks pointing at it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from opinion_pipeline.automation.alerts import AlertSettings
from opinion_pipeline.defs.trade_alerts import ledger
from opinion_pipeline.defs.trade_alerts.dispatch import Delivery, deliver_trade_alerts
from opinion_pipeline.defs.trade_alerts.events import Thresholds
from opinion_pipeline_tests.automation.alerts_fixtures import Reply, WebhookReceiver
from opinion_pipeline_tests.defs.trade_alerts.alerts_data import (
    plant_big_trades,
    plant_buy,
    plant_position_change,
    plant_skill,
)

pytestmark = pytest.mark.unit

TOKEN = "T0ALERTS/B0ALERTS/tokenvalue777"
LIMITS = Thresholds(trade_usd=10_000, position_usd=10_000)
FAST = Delivery(options={"attempts": 2, "backoff_base_s": 0.01})


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def channels(receiver: WebhookReceiver, *paths: str) -> AlertSettings:
    base = receiver.url.replace("http://", "json://")
    return AlertSettings.from_urls([f"{base}{path}" for path in paths or (f"/{TOKEN}",)])


def ledger_rows(warehouse) -> list[tuple]:
    with warehouse.reader() as session:
        return session.query(
            "SELECT event_key, channel, status, tries, digest_key, last_error FROM alert_ledger "
            "ORDER BY event_key, channel"
        )


def test_three_big_trades_three_alerts_and_a_rerun_none(warehouse, receiver):
    keys = plant_big_trades(warehouse, 3)
    plant_big_trades(warehouse, 1, usd=9_999, first=50)  # under the threshold
    plant_big_trades(warehouse, 1, first=60, age=timedelta(days=2))  # history, not news
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    plant_big_trades(warehouse, 1, first=70, detected_at=old)  # detected too long ago
    settings = channels(receiver)
    run = deliver_trade_alerts(warehouse, settings, LIMITS, owner="run-1", how=FAST)
    assert (run.events, run.queued, run.counts["delivered"], run.failed) == (3, 3, 3, 0)
    bodies = receiver.bodies("big_trade")
    assert sorted(body["event_key"] for body in bodies) == [f"trade:{key}" for key in keys]
    assert all(body["title"].startswith("Whale BUY $25,000") for body in bodies)
    assert "market: Market 100 (id 100)" in bodies[0]["message"]

    again = deliver_trade_alerts(warehouse, settings, LIMITS, owner="run-2", how=FAST)
    assert (again.events, again.queued, again.counts["delivered"]) == (3, 0, 0)
    assert len(receiver.requests) == 3
    assert [row[2:4] for row in ledger_rows(warehouse)] == [("delivered", 1)] * 3


def test_each_channel_gets_each_alert_once(warehouse, receiver):
    plant_big_trades(warehouse, 2)
    settings = channels(receiver, "/slack-like", "/discord-like")
    for number in range(3):
        deliver_trade_alerts(warehouse, settings, LIMITS, owner=f"run-{number}", how=FAST)
    assert Counter(request.path for request in receiver.requests) == {
        "/slack-like": 2,
        "/discord-like": 2,
    }
    assert len(ledger_rows(warehouse)) == 4


def test_a_claimed_alert_is_not_claimed_again(warehouse, receiver):
    """Overlapping runs: the claim is atomic, so only one sender holds a pending row."""
    plant_big_trades(warehouse, 1)
    settings = channels(receiver)
    [channel] = settings.channels
    now = datetime.now(timezone.utc)
    assert ledger.queue(warehouse, _events(warehouse), settings.channels, now) == 1
    lease, tries = timedelta(minutes=10), 5
    _, first = ledger.claim(
        warehouse, channel, ["trade:trade-0000"], owner="a", now=now, lease=lease, max_tries=tries
    )
    _, second = ledger.claim(
        warehouse, channel, ["trade:trade-0000"], owner="b", now=now, lease=lease, max_tries=tries
    )
    assert first == ["trade:trade-0000"] and second == []
    run = deliver_trade_alerts(warehouse, settings, LIMITS, owner="c", how=FAST)
    assert run.counts["delivered"] == 0 and receiver.requests == []  # "a" still holds it


def _events(warehouse):
    from opinion_pipeline.defs.trade_alerts.events import collect_events

    with warehouse.session() as session:
        return collect_events(session, LIMITS, datetime.now(timezone.utc))


def test_a_burst_above_the_rate_becomes_one_digest(warehouse, receiver):
    plant_big_trades(warehouse, 25)
    settings = channels(receiver)
    how = Delivery(rate_per_minute=20, options=FAST.options)
    run = deliver_trade_alerts(warehouse, settings, LIMITS, owner="burst", how=how)
    assert (run.counts["digested"], run.counts["digests"], run.counts["delivered"]) == (25, 1, 0)
    [digest] = receiver.bodies("digest")
    assert len(receiver.requests) == 1
    assert digest["alerts"] == 25 and len(digest["event_keys"]) == 25
    assert digest["title"] == "25 whale alerts (more than 20 a minute: one digest)"
    statuses = {row[2] for row in ledger_rows(warehouse)}
    assert statuses == {"digested"} and len({row[4] for row in ledger_rows(warehouse)}) == 1

    plant_big_trades(warehouse, 3, first=100)  # the same minute: 19 messages left, 3 due
    later = deliver_trade_alerts(warehouse, settings, LIMITS, owner="after", how=how)
    assert later.counts["delivered"] == 3 and len(receiver.requests) == 4


def test_failures_are_retried_recorded_and_never_raise(warehouse, receiver):
    plant_big_trades(warehouse, 1)
    settings = channels(receiver)
    receiver.script.extend([Reply(503), Reply(503)])  # both attempts of the first run
    run = deliver_trade_alerts(warehouse, settings, LIMITS, owner="down", how=FAST)
    assert run.failed == 1 and run.errors and TOKEN not in " ".join(run.errors)
    [row] = ledger_rows(warehouse)
    assert row[2:4] == ("failed", 1) and "503" in row[5]
    assert len(receiver.requests) == 2  # retried with backoff inside the run

    soon = deliver_trade_alerts(warehouse, settings, LIMITS, owner="soon", how=FAST)
    assert soon.counts["delivered"] == 0  # a failed alert waits a minute before its next try
    later = datetime.now(timezone.utc) + timedelta(minutes=1, seconds=1)
    healed = deliver_trade_alerts(
        warehouse, settings, LIMITS, owner="up", how=FAST, now=lambda: later
    )
    assert healed.counts["delivered"] == 1
    [row] = ledger_rows(warehouse)
    assert row[2:4] == ("delivered", 2) and row[5] is None


def test_position_changes_and_whale_consensus(warehouse, receiver):
    plant_position_change(warehouse, "big-change", 15_000)
    plant_position_change(warehouse, "small-change", 500, number=2)
    plant_skill(warehouse, {1: 1, 2: 2, 3: 3, 4: 4, 9: 40})
    now = datetime.now(timezone.utc)
    # market 7: three top whales within the hour -> consensus; market 8: two top + one outside
    for n, (number, minutes) in enumerate([(1, 50), (2, 30), (3, 5)]):
        plant_buy(warehouse, f"m7-{n}", number, 7, now - timedelta(minutes=minutes))
    for n, number in enumerate([1, 2, 9]):
        plant_buy(warehouse, f"m8-{n}", number, 8, now - timedelta(minutes=10 + n))
    # market 9: three top whales, but spread over two hours
    for n, (number, minutes) in enumerate([(1, 130), (2, 60), (3, 1)]):
        plant_buy(warehouse, f"m9-{n}", number, 9, now - timedelta(minutes=minutes))
    settings = channels(receiver)
    run = deliver_trade_alerts(warehouse, settings, LIMITS, owner="r", how=FAST)
    assert run.counts["delivered"] == 2
    [change] = receiver.bodies("position_change")
    assert change["event_key"] == "position:big-change"
    assert change["title"].startswith("Whale position increased $15,000")
    [agreed] = receiver.bodies("consensus")
    assert agreed["event_key"] == "consensus:7:1:m7-2" and agreed["subject"] == "7:1"
    assert "3 top whales bought Yes on Market 7" in agreed["title"]

    plant_buy(warehouse, "m7-3", 4, 7, now)  # a fourth whale joins: the same consensus
    deliver_trade_alerts(warehouse, settings, LIMITS, owner="r2", how=FAST)
    assert len(receiver.requests) == 2


def test_secrets_stay_out_of_the_ledger_and_the_logs(warehouse, receiver, caplog):
    plant_big_trades(warehouse, 2)
    receiver.script.append(Reply(500))
    with caplog.at_level(logging.DEBUG):
        settings = channels(receiver)
        run = deliver_trade_alerts(warehouse, settings, LIMITS, owner="s", how=FAST)
    assert run.counts["delivered"] == 2
    with warehouse.reader() as session:
        stored = session.frame("SELECT * FROM alert_ledger").to_csv()
    for secret in (TOKEN, "tokenvalue777", "B0ALERTS"):
        assert secret not in stored
        assert secret not in caplog.text
    assert any(record.name == "apprise" for record in caplog.records)
