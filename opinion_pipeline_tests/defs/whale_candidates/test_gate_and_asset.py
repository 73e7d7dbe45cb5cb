"""The gate's cap and priority, no_trades_seen, and the asset failing on a broken source."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import pandas as pd
import pytest

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.whale_candidates.assets import whale_candidates
from opinion_pipeline.defs.whale_candidates.gate import AdmissionRules, Universe, decide
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry, tracked_whales
from opinion_pipeline.opinion_api import OpinionPayloadError
from opinion_pipeline.resources.discovery import DiscoveryTunables
from opinion_pipeline_tests.defs.whale_candidates.conftest import registry
from opinion_pipeline_tests.fakes import FakeOpinionAPI

pytestmark = pytest.mark.unit
NOW = 1_790_000_000
SEEN = pd.Timestamp(NOW - 60, unit="s", tz="UTC")


def _address(number: int) -> str:
    return f"0x{number:040x}"


def _board(ranks: dict[int, str]) -> pd.DataFrame:
    rows = [
        {"address": _address(n), "source": "leaderboard", "board": "volume:30", "rank": rank,
         "ranking_value_sent": sent, "ranking_value": None if sent in ("", "0") else sent,
         "holding_usd": None, "user_name": None, "first_seen_at": SEEN, "last_seen_at": SEEN}
        for rank, (n, sent) in enumerate(ranks.items(), start=1)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_the_cap_binds_in_a_deterministic_priority():
    sightings = _board({n: str(10_000 - n) for n in range(1, 11)})
    rules = AdmissionRules(boards=("volume:30",), top_n=10, max_tracked=5)
    universe = Universe(pins=frozenset({_address(50)}), tracked=frozenset({_address(9)}))
    decided = decide(sightings, universe, rules, NOW)
    admitted = list(decided[decided["admitted"]].sort_values("priority")["address"])
    # 1 pin leaves 4 places: the tracked whale first, then the best ranks.
    assert admitted == [_address(9), _address(1), _address(2), _address(3)]
    capped = decided[decided["address"] == _address(4)].iloc[0]
    assert not capped["admitted"] and "over the cap" in capped["rule"]
    again = decide(sightings.sample(frac=1, random_state=3), universe, rules, NOW)
    assert list(again.sort_values("address")["admitted"]) == list(
        decided.sort_values("address")["admitted"]
    )


def test_unknown_values_count_only_when_the_board_proves_them():
    sightings = _board({1: "", 2: "5000", 3: "0", 4: "900"})
    rules = AdmissionRules(boards=("volume:30",), top_n=10, min_ranking_value=Decimal(1000))
    decided = decide(sightings, Universe(), rules, NOW).set_index("address")
    assert decided.loc[_address(1), "admitted"]  # "" above a known 5000
    assert not decided.loc[_address(3), "admitted"]  # "0" above only 900: unproven
    assert "unknown" in decided.loc[_address(3), "rule"]
    assert not decided.loc[_address(4), "admitted"]


def test_a_tracked_address_whose_trades_route_is_empty_is_marked():
    sightings = _board({1: "5000"})
    universe = Universe(tracked=frozenset({_address(1)}),
                        polled_without_trades=frozenset({_address(1)}))  # fmt: skip
    row = decide(sightings, universe, AdmissionRules(boards=("volume:30",)), NOW).iloc[0]
    assert row["no_trades_seen"] and not row["admitted"]
    assert row["rule"].startswith("no_trades_seen")


def test_a_route_answering_html_fails_the_asset_naming_it(crowd, warehouse, tmp_path):
    path = registry(tmp_path / "whales.csv")
    api = FakeOpinionAPI.over(crowd)
    sync_markets(api, warehouse)
    sync_whale_registry(warehouse, path)
    html = OpinionPayloadError("GET /api/bsc/api/v2/leaderboard returned a non-JSON body",
                               route="GET /api/bsc/api/v2/leaderboard")  # fmt: skip
    broken = FakeOpinionAPI.over(crowd, fail_wallets={"/leaderboard": html})
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [whale_candidates],
            instance=instance,
            resources={
                "opinion_api": broken,
                "warehouse": warehouse,
                "discovery": DiscoveryTunables(enabled=True),
            },
            raise_on_error=False,
        )
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert "leaderboard" in message and "UNOFFICIAL route leaderboard" in message
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["sources_answered"].passed
    assert checks["sources_answered"].severity == dg.AssetCheckSeverity.ERROR
    sync_whale_registry(warehouse, path)
    tracked = tracked_whales(warehouse)
    assert all(whale.address in {w.address for w in crowd.population} for whale in tracked)
