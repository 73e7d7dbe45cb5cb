"""SIGKILL between a delivery and its ledger write: never a lost alert, at most one duplicate.

A real subprocess sends through apprise to the loopback receiver and is killed at the hook (the
ledger write after the send, ``alerts_sender ... kill``). The ledger row it leaves is "pending"
(written in its own transaction before the send), so later runs send it again once its lease
has expired, and never before: the guarantee chosen is no loss, at most one duplicate.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from opinion_pipeline.automation.alerts import AlertSettings
from opinion_pipeline.defs.trade_alerts.dispatch import Delivery, deliver_trade_alerts
from opinion_pipeline.defs.trade_alerts.events import Thresholds
from opinion_pipeline_tests.automation.alerts_daemon import REPO_ROOT
from opinion_pipeline_tests.automation.alerts_fixtures import WebhookReceiver
from opinion_pipeline_tests.defs.trade_alerts.alerts_data import plant_big_trades
from opinion_pipeline_tests.defs.trade_alerts.alerts_sender import MODULE

pytestmark = pytest.mark.integration

LIMITS = Thresholds(trade_usd=10_000, position_usd=10_000)
LEASE = timedelta(minutes=10)


def test_a_kill_after_sending_costs_one_duplicate_never_a_loss(warehouse, tmp_path):
    keys = [f"trade:{key}" for key in plant_big_trades(warehouse, 3)]
    with WebhookReceiver() as receiver:
        url = receiver.url.replace("http://", "json://") + "/hook"
        killed = subprocess.run(
            [sys.executable, "-m", MODULE, warehouse.path, url, "killed", "kill-after-send"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        [first] = receiver.wait_for(1)
        assert first.json()["event_key"] == keys[0]
        with warehouse.reader() as session:
            states = dict(session.query("SELECT event_key, status FROM alert_ledger"))
        assert states == {keys[0]: "pending", keys[1]: "queued", keys[2]: "queued"}

        settings = AlertSettings.from_urls([url])
        how = Delivery(lease=LEASE, options={"attempts": 2, "backoff_base_s": 0.01})
        # Within the lease the pending row may still be in flight: it is left alone.
        soon = deliver_trade_alerts(warehouse, settings, LIMITS, owner="soon", how=how)
        assert soon.counts["delivered"] == 2
        # Past the lease its sender is taken for dead: the alert goes out again.
        later = datetime.now(timezone.utc) + LEASE + timedelta(seconds=1)
        after = deliver_trade_alerts(
            warehouse, settings, LIMITS, owner="after", how=how, now=lambda: later
        )
        assert after.counts["delivered"] == 1
        deliver_trade_alerts(warehouse, settings, LIMITS, owner="again", how=how)

        sent = Counter(request.json()["event_key"] for request in receiver.requests)
    assert set(sent) == set(keys)  # nothing lost
    assert sum(sent.values()) - len(keys) <= 1  # at most one duplicate
    assert sent[keys[0]] == 2
    with warehouse.reader() as session:
        assert session.query("SELECT DISTINCT status FROM alert_ledger") == [("delivered",)]


def test_a_kill_before_sending_costs_nothing(warehouse):
    """Killed with the row pending and nothing sent: sent once after the lease, no duplicate."""
    keys = [f"trade:{key}" for key in plant_big_trades(warehouse, 2)]
    with WebhookReceiver() as receiver:
        url = receiver.url.replace("http://", "json://") + "/hook"
        killed = subprocess.run(
            [sys.executable, "-m", MODULE, warehouse.path, url, "killed", "kill-before-send"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert receiver.requests == []
        later = datetime.now(timezone.utc) + LEASE + timedelta(seconds=1)
        settings = AlertSettings.from_urls([url])
        deliver_trade_alerts(warehouse, settings, LIMITS, owner="after", now=lambda: later)
        sent = Counter(request.json()["event_key"] for request in receiver.requests)
    assert sent == dict.fromkeys(keys, 1)


def test_overlapping_runs_send_each_alert_once(warehouse):
    """Three sender processes at once over the same 12 events: 12 messages, not 36."""
    keys = [f"trade:{key}" for key in plant_big_trades(warehouse, 12)]
    with WebhookReceiver() as receiver:
        url = receiver.url.replace("http://", "json://") + "/hook"
        senders = [
            subprocess.Popen(
                [sys.executable, "-m", MODULE, warehouse.path, url, f"sender-{n}"],
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(3)
        ]
        outputs = [sender.communicate(timeout=120) for sender in senders]
        assert all(sender.returncode == 0 for sender in senders), outputs
        sent = Counter(request.json()["event_key"] for request in receiver.requests)
    assert sent == dict.fromkeys(keys, 1)
    delivered = sum(int(out.split("delivered=")[1].split()[0]) for out, _ in outputs)
    assert delivered == 12
