"""Discovery end to end in process: sources -> sightings -> gate -> tracked universe."""

from __future__ import annotations

import json

import pytest

from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, discover
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.defs.whale_trades.sync import WhaleSyncOptions, sync_whale_trades
from opinion_pipeline.opinion_api import unofficial
from opinion_pipeline.warehouse.duckdb_warehouse import DuckDBWarehouse
from opinion_pipeline_tests.defs.whale_candidates.conftest import (
    chosen_by_volume,
    registry,
    run_discovery,
    true_top,
)
from opinion_pipeline_tests.fakes import FakeOpinionAPI

pytestmark = pytest.mark.unit


def _rows(warehouse: DuckDBWarehouse, sql: str) -> list[tuple]:
    with warehouse.reader() as session:
        return session.query(sql)


def test_empty_registry_admits_the_true_top_wallets(crowd, crowd_api, warehouse, tmp_path):
    report = run_discovery(crowd_api, warehouse, registry(tmp_path / "whales.csv"))
    assert report.sources_run == ["leaderboard", "holders"] and not report.sources_failed
    tracked = {whale.address for whale in tracked_whales(warehouse)}
    truth = true_top(crowd, chosen_by_volume(crowd, 10))
    hits = len(tracked & truth)
    precision, recall = hits / len(tracked), hits / len(truth)
    print(f"admitted {len(tracked)}, truth {len(truth)}, precision {precision:.3f}, "
          f"recall {recall:.3f}")  # fmt: skip
    assert precision >= 0.95 and recall >= 0.95
    sources = dict(_rows(warehouse, "SELECT source, count(*) FROM whales GROUP BY 1"))
    assert set(sources) <= {"leaderboard", "holders"} and sources.get("leaderboard")
    assert not _rows(warehouse, "SELECT * FROM whales WHERE admitted_at IS NULL")
    # Budget: 12 boards + 2 requests for each of the 10 markets.
    assert report.requests == 12 + 20


def test_a_new_whale_gets_its_full_history(crowd, crowd_api, warehouse, tmp_path):
    run_discovery(crowd_api, warehouse, registry(tmp_path / "whales.csv"))
    whales = tracked_whales(warehouse)
    sync_whale_trades(crowd_api, warehouse, whales, WhaleSyncOptions())
    stored = dict(_rows(warehouse, "SELECT wallet, count(*) FROM trades GROUP BY 1"))
    for whale in whales[:5]:
        assert stored[whale.address] == len(crowd.fills(crowd.wallet(whale.address), crowd.now()))


def test_ranking_values_as_sent_with_unknowns_kept(crowd, crowd_api, warehouse, tmp_path):
    run_discovery(crowd_api, warehouse, registry(tmp_path / "whales.csv"))
    sent = _rows(warehouse, "SELECT ranking_value_sent, ranking_value FROM candidate_sightings "
                            "WHERE source = 'leaderboard'")  # fmt: skip
    unknown = [value for text, value in sent if text in ("", "0")]
    assert unknown and all(value is None for value in unknown)
    assert all(value is not None for text, value in sent if text not in ("", "0"))
    values = _rows(warehouse, "SELECT ranking_values FROM whale_candidates "
                              "WHERE ranking_values LIKE '%\"\"%'")  # fmt: skip
    assert values and "" in json.loads(values[0][0]).values()


def test_pins_stay_and_excludes_never_appear(crowd, crowd_api, warehouse, tmp_path):
    top = [row["walletAddress"] for row in unofficial.leaderboard(crowd_api, "volume", 30)][:2]
    quiet = crowd.traders[-1].address  # ranks nowhere
    path = registry(tmp_path / "whales.csv", [f"{quiet},my pick,", f"{top[0]},spam,exclude"])
    run_discovery(crowd_api, warehouse, path)
    tracked = {whale.address for whale in tracked_whales(warehouse)}
    assert quiet in tracked and top[0] not in tracked and top[1] in tracked
    assert not _rows(warehouse, f"SELECT * FROM whales WHERE address = '{top[0]}'")
    rule = _rows(
        warehouse, f"SELECT admitted, rule FROM whale_candidates WHERE address = '{top[0]}'"
    )
    assert rule == [(False, "excluded: marked exclude in the registry file")]
    assert _rows(warehouse, f"SELECT source FROM whales WHERE address = '{quiet}'") == [
        ("registry",)
    ]
    # Excluding a whale discovery already tracks takes it out too.
    path = registry(path, [f"{quiet},my pick,", f"{top[0]},spam,exclude", f"{top[1]},no,exclude"])
    sync_whale_registry(warehouse, path)
    assert top[1] not in {whale.address for whale in tracked_whales(warehouse)}


def test_a_failed_source_leaves_the_registry_untouched(crowd, warehouse, tmp_path):
    from opinion_pipeline.opinion_api import OpinionNotFoundError

    path = registry(tmp_path / "whales.csv")
    run_discovery(FakeOpinionAPI.over(crowd), warehouse, path)
    before = _rows(warehouse, "SELECT address, in_registry, discovery_dropped_at FROM whales "
                              "ORDER BY 1")  # fmt: skip
    gone = OpinionNotFoundError("GET /api/bsc/api/v2/leaderboard failed with HTTP 404",
                                route="GET /api/bsc/api/v2/leaderboard", status=404)  # fmt: skip
    broken = FakeOpinionAPI.over(crowd, fail_wallets={"/leaderboard": gone, "/holder": gone})
    options = DiscoveryOptions(leaderboard_refresh_minutes=1, holders_refresh_minutes=1)
    with warehouse.session() as session:  # make both sources due again
        session.execute("UPDATE candidate_sightings SET last_seen_at = last_seen_at - "
                        "INTERVAL 2 HOUR")  # fmt: skip
    report = discover(broken, warehouse, options)
    assert set(report.sources_failed) == {"leaderboard", "holders"}
    assert "UNOFFICIAL route leaderboard" in report.sources_failed["leaderboard"]
    sync_whale_registry(warehouse, path)
    after = _rows(warehouse, "SELECT address, in_registry, discovery_dropped_at FROM whales "
                             "ORDER BY 1")  # fmt: skip
    assert after == before


def test_a_whale_unseen_for_drop_days_is_marked_and_comes_back(crowd, crowd_api, warehouse,
                                                               tmp_path):  # fmt: skip
    path = registry(tmp_path / "whales.csv")
    run_discovery(crowd_api, warehouse, path)
    victim = tracked_whales(warehouse)[0].address
    with warehouse.session() as session:
        session.execute(
            "UPDATE candidate_sightings SET last_seen_at = now() - INTERVAL 15 DAY, "
            f"first_seen_at = now() - INTERVAL 20 DAY WHERE address = '{victim}'"
        )
    discover(crowd_api, warehouse, DiscoveryOptions())
    sync_whale_registry(warehouse, path)
    row = _rows(warehouse, f"SELECT in_registry, discovery_dropped_at IS NOT NULL FROM whales "
                           f"WHERE address = '{victim}'")  # fmt: skip
    assert row == [(True, True)]  # still tracked (trades kept), marked, polled rarely
    whale = next(w for w in tracked_whales(warehouse) if w.address == victim)
    sync_whale_trades(crowd_api, warehouse, [whale], WhaleSyncOptions())  # polled once now
    from opinion_pipeline.defs.whale_registry.store import inactive_wallets_not_due

    with warehouse.session() as session:
        assert victim in inactive_wallets_not_due(session, 60)
    # A source shows it again: admitted again, the mark is cleared.
    options = DiscoveryOptions(leaderboard_refresh_minutes=1, holders_refresh_minutes=1)
    with warehouse.session() as session:
        session.execute("UPDATE candidate_sightings SET last_seen_at = last_seen_at - "
                        "INTERVAL 2 HOUR")  # fmt: skip
    discover(crowd_api, warehouse, options)
    sync_whale_registry(warehouse, path)
    row = _rows(warehouse, f"SELECT discovery_dropped_at FROM whales WHERE address = '{victim}'")
    assert row == [(None,)]


def test_discovery_turned_off_fetches_nothing(crowd, crowd_api, warehouse, tmp_path):
    path = registry(tmp_path / "whales.csv", [f"{crowd.traders[0].address},mine,"])
    sync_whale_registry(warehouse, path)
    report = discover(crowd_api, warehouse, DiscoveryOptions(leaderboard=False, holders=False))
    assert report.requests == 0 and report.sources_run == []
    assert _rows(warehouse, "SELECT address, admitted FROM whale_candidates") == [
        (crowd.traders[0].address, True)
    ]


def test_bad_rows_are_quarantined_with_the_reason(crowd, warehouse, tmp_path, monkeypatch):
    from opinion_pipeline.opinion_api import unofficial

    real = unofficial.leaderboard

    def corrupt(api, data_type, period):
        rows = real(api, data_type, period)
        rows[0] = {**rows[0], "walletAddress": "0x123"}
        rows[1] = {**rows[1], "rankingValue": "lots"}
        return rows

    monkeypatch.setattr(unofficial, "leaderboard", corrupt)
    report = run_discovery(FakeOpinionAPI.over(crowd), warehouse, registry(tmp_path / "w.csv"))
    assert report.quarantined == 24
    reasons = [r for (r,) in _rows(warehouse, "SELECT reason FROM quarantine "
                                              "WHERE entity = 'leaderboard'")]  # fmt: skip
    assert any("walletAddress: expected 0x + 40 hex digits" in r for r in reasons)
    assert any("rankingValue: expected a decimal string" in r for r in reasons)
    assert _rows(warehouse, "SELECT min(rank) FROM candidate_sightings "
                            "WHERE board = 'volume:30'") == [(3,)]  # fmt: skip


@pytest.mark.parametrize(
    ("minutes_ago", "due"),
    [(52, False), (55, True), (59.9, True), (60.5, True)],  # refresh 60 on a 15-minute tick
)
def test_a_source_is_due_at_the_first_tick_after_its_refresh(crowd_api, warehouse, tmp_path,
                                                             minutes_ago, due):  # fmt: skip
    run_discovery(crowd_api, warehouse, registry(tmp_path / "whales.csv"))
    with warehouse.session() as session:  # the previous run: minutes_ago, a tick earlier
        session.execute("UPDATE candidate_sightings SET last_seen_at = now() - "
                        f"INTERVAL {int(minutes_ago * 60)} SECOND")  # fmt: skip
    report = discover(crowd_api, warehouse, DiscoveryOptions())
    assert ("leaderboard" in report.sources_run) is due, report.sources_skipped
    if not due:
        assert "refreshed recently" in report.sources_skipped["leaderboard"]
