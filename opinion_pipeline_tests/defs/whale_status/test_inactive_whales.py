"""Inactive whales: marked after 90 quiet days, polled less often, reactivated by a new trade."""

from __future__ import annotations

import time

import pytest

from opinion_pipeline.defs.whale_registry.registry_file import Whale
from opinion_pipeline.defs.whale_registry.store import (
    reactivate_whales_with_recent_trades,
    sync_registry,
)
from opinion_pipeline.defs.whale_trades.store import insert_trades
from opinion_pipeline.defs.whale_trades.validate import prepare_trades
from opinion_pipeline.warehouse.duckdb_session import DuckDBSession
from opinion_pipeline_tests.conftest import pipeline_warehouse
from opinion_pipeline_tests.factories import trade_row, wallet
from opinion_pipeline_tests.pipeline.helpers import run_job

DAY = 86_400


def _trade(conn, address: str, age_days: float) -> None:
    row = trade_row(createdAt=int(time.time() - age_days * DAY))
    insert_trades(
        DuckDBSession(conn), prepare_trades(address, [row]).rows, run_id="seed", alert_usd=1e12
    )


def _status(conn) -> dict[str, tuple[str, bool]]:
    rows = conn.execute("SELECT address, status, inactive_since IS NOT NULL FROM whales").fetchall()
    return {address: (status, has_since) for address, status, has_since in rows}


@pytest.fixture
def world(pipeline_env) -> dict[str, str]:
    """Six whales covering every case of the rule."""
    names = {
        "quiet": wallet(11),         # last trade 100 days ago
        "recent": wallet(12),        # last trade 10 days ago
        "new": wallet(13),           # never traded, listed today
        "never": wallet(14),         # never traded, listed 120 days ago
        "old_and_fresh": wallet(15), # trades 200 and 89 days ago
        "back": wallet(16),          # inactive, but traded yesterday
    }  # fmt: skip
    with pipeline_warehouse().transaction() as conn:
        sync_registry(
            DuckDBSession(conn), [Whale(address, name) for name, address in names.items()]
        )
        _trade(conn, names["quiet"], 100)
        _trade(conn, names["recent"], 10)
        _trade(conn, names["old_and_fresh"], 200)
        _trade(conn, names["old_and_fresh"], 89)
        _trade(conn, names["back"], 1)
        conn.execute(
            "UPDATE whales SET first_listed_at = now() - INTERVAL 120 DAY WHERE address = ?",
            [names["never"]],
        )
        conn.execute(
            "UPDATE whales SET status = 'inactive', inactive_since = now() - INTERVAL 5 DAY "
            "WHERE address = ?",
            [names["back"]],
        )
    return names


def test_daily_job_marks_quiet_whales_and_reactivates_traders(world, instance):
    result = run_job(instance, "mark_inactive_whales")
    assert result.success
    metadata = result.asset_materializations_for_node("whale_status")[0].metadata
    assert metadata["marked_inactive"].value == 2
    assert metadata["reactivated"].value == 1
    assert metadata["active"].value == 4 and metadata["inactive"].value == 2
    shown = metadata["newly_inactive"].value
    assert "| quiet |" in shown and "| never |" in shown and "recent" not in shown
    with pipeline_warehouse().connection() as conn:
        status = _status(conn)
    assert status[world["quiet"]] == ("inactive", True)
    assert status[world["never"]] == ("inactive", True)
    assert status[world["back"]] == ("active", False)
    for name in ("recent", "new", "old_and_fresh"):
        assert status[world[name]] == ("active", False), name

    again = run_job(instance, "mark_inactive_whales")
    metadata = again.asset_materializations_for_node("whale_status")[0].metadata
    assert metadata["marked_inactive"].value == 0 and metadata["reactivated"].value == 0


def test_inactive_after_days_comes_from_the_environment(world, instance, monkeypatch):
    monkeypatch.setenv("OPINION_INACTIVE_AFTER_DAYS", "5")
    result = run_job(instance, "mark_inactive_whales")
    metadata = result.asset_materializations_for_node("whale_status")[0].metadata
    assert metadata["inactive_after_days"].value == 5
    with pipeline_warehouse().connection() as conn:
        status = _status(conn)
    assert status[world["recent"]][0] == "inactive"  # 10 days quiet > 5
    assert status[world["back"]][0] == "active"  # traded yesterday


def test_reactivation_as_the_sync_calls_it(world):
    warehouse = pipeline_warehouse()
    with warehouse.transaction() as conn:
        conn.execute("UPDATE whales SET status = 'inactive', inactive_since = now()")
        _trade(conn, world["quiet"], 400)  # an old trade found late does not reactivate
        _trade(conn, world["never"], 0.01)  # a trade made minutes ago does
        assert reactivate_whales_with_recent_trades(DuckDBSession(conn), 90, wallets=[]) == 0
        assert (
            reactivate_whales_with_recent_trades(DuckDBSession(conn), 90, wallets=[world["quiet"]])
            == 0
        )
        assert (
            reactivate_whales_with_recent_trades(DuckDBSession(conn), 90, wallets=[world["never"]])
            == 1
        )
        status = _status(conn)
    assert status[world["never"]] == ("active", False)
    assert status[world["quiet"]] == ("inactive", True)
    # Wallets outside the list are left for the daily pass, which applies the same rule.
    assert status[world["recent"]] == ("inactive", True)
    with warehouse.transaction() as conn:
        assert (
            reactivate_whales_with_recent_trades(DuckDBSession(conn), 90) == 3
        )  # recent, old_and_fresh, back
        assert _status(conn)[world["quiet"]][0] == "inactive"


def _polled_at(address: str):
    with pipeline_warehouse().connection() as conn:
        return conn.execute(
            "SELECT last_polled_at FROM whales WHERE address = ?", [address]
        ).fetchone()[0]


def _sync(instance) -> dict:
    result = run_job(instance, "sync_whale_trades")
    assert result.success
    metadata = result.asset_materializations_for_node("whale_trades")[0].metadata
    return {name: value.value for name, value in metadata.items()}


def test_inactive_whale_is_polled_at_most_every_poll_minutes(
    pipeline_env, simulator, instance, monkeypatch
):
    whales = [w["address"].lower() for w in simulator.wallets()]
    first = _sync(instance)
    assert first["whales_polled"] == len(whales)
    target = whales[0]
    with pipeline_warehouse().transaction() as conn:
        conn.execute(
            "UPDATE whales SET status = 'inactive', inactive_since = now() WHERE address = ?",
            [target],
        )
    polled = _polled_at(target)
    second = _sync(instance)  # polled moments ago: not due
    assert second["whales_skipped_inactive"] == 1 and second["whales_polled"] == len(whales) - 1
    assert _polled_at(target) == polled

    with pipeline_warehouse().transaction() as conn:
        conn.execute(
            "UPDATE whales SET last_polled_at = now() - INTERVAL 61 MINUTE WHERE address = ?",
            [target],
        )
    monkeypatch.setenv("OPINION_INACTIVE_POLL_MINUTES", "120")
    assert _sync(instance)["whales_skipped_inactive"] == 1  # 61 minutes < 120

    monkeypatch.setenv("OPINION_INACTIVE_POLL_MINUTES", "60")
    before = _polled_at(target)
    third = _sync(instance)  # 61 minutes > 60 (the default): due again
    assert third["whales_skipped_inactive"] == 0 and third["whales_polled"] == len(whales)
    assert _polled_at(target) > before


def test_the_sync_reactivates_a_whale_as_soon_as_it_stores_a_new_trade(
    pipeline_env, fresh_simulator, instance, monkeypatch
):
    sim = fresh_simulator
    monkeypatch.setenv("OPINION_API_BASE_URL", sim.base_url)
    heavy = next(w["address"].lower() for w in sim.wallets() if w["profile"] == "heavy")
    _sync(instance)
    with pipeline_warehouse().transaction() as conn:
        conn.execute(
            "UPDATE whales SET status = 'inactive', inactive_since = now(), "
            "last_polled_at = now() - INTERVAL 2 HOUR WHERE address = ?",
            [heavy],
        )
    sim.advance(6 * 3600)  # a heavy wallet trades several times in six hours
    assert sim.truth_trades(heavy)[0]["createdAt"] > time.time() - 60
    assert _sync(instance)["new_rows"] > 0
    with pipeline_warehouse().connection() as conn:
        assert _status(conn)[heavy] == ("active", False)
