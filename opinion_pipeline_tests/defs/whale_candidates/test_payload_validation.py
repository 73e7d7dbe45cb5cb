"""Every UNOFFICIAL payload passes pandera before anything is written: the documented extra
fields are type-checked, a bad row is quarantined naming its field and row, unknown fields are
ignored but named in the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from opinion_pipeline.defs.markets.sync import sync_markets
from opinion_pipeline.defs.whale_candidates.sync import DiscoveryOptions, discover
from opinion_pipeline.defs.whale_candidates.validate import (
    holder_sightings,
    leaderboard_sightings,
)
from opinion_pipeline.defs.whale_registry.sync import sync_whale_registry
from opinion_pipeline.simulator.process import SimulatorProcess
from opinion_pipeline_tests.conftest import make_client
from opinion_pipeline_tests.defs.whale_candidates.conftest import registry

ADDRESS = "0x" + "ab" * 20
ROW_NAMED = re.compile(r"^(leaderboard \w+:\d+|holders market:\d+:(yes|no)) row \d+: \w+: ")


def _entry(**fields) -> dict:
    return {"walletAddress": ADDRESS, "userName": "w", "rankingValue": "12.5", "id": 7,
            "rankingChange": -3, "rankingType": 1, "avatar": "", **fields}  # fmt: skip


@pytest.mark.unit
@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("rankingChange", "up", "rankingChange: expected an integer, got 'up'"),
        ("id", 1.5, "id: expected an integer >= 0, got 1.5"),
        ("rankingType", None, None),  # documented extras may be absent or null
        ("xUserId", "@me", "xUserId: expected digits (string or integer), got '@me'"),
        ("xUsername", 5, "xUsername: expected a string, got 5"),
        ("walletAddress", None, "walletAddress: null"),
    ],
)
def test_leaderboard_fields_are_checked_by_name(field, value, expected):
    sightings = leaderboard_sightings("volume:30", [_entry(), _entry(**{field: value})])
    if expected is None:
        assert len(sightings.rows) == 2 and not sightings.rejects
        return
    assert [row["rank"] for row in sightings.rows] == [1]
    [(_wallet, reject)] = sightings.rejects
    assert reject.reason == f"leaderboard volume:30 row 2: {expected}"


@pytest.mark.unit
def test_a_missing_required_field_and_unknown_fields():
    row = _entry()
    del row["rankingValue"]
    sightings = leaderboard_sightings("profit:0", [row, _entry(brandNew=1)])
    assert sightings.rejects[0][1].reason == "leaderboard profit:0 row 1: rankingValue: missing"
    assert sightings.unknown_fields == {"brandNew"} and len(sightings.rows) == 1
    holders = holder_sightings(3, "no", [{"walletAddress": ADDRESS, "sharesAmount": 2.0,
                                          "profit": "lots", "userName": "w"}])  # fmt: skip
    assert holders.rejects[0][1].reason == (
        "holders market:3:no row 1: profit: expected a JSON number, got 'lots'"
    )


def test_the_simulator_sending_malformed_rows_over_http(api_key: str, warehouse, tmp_path: Path):
    with SimulatorProcess(api_key, seed=7, markets=12, wallets=4, traders=120, history_days=3,
                          clock_speed=0.0) as sim:  # fmt: skip
        client = make_client(sim, api_key, tmp_path / "limiter")
        path = registry(tmp_path / "whales.csv")
        sync_markets(client, warehouse)
        sync_whale_registry(warehouse, path)
        sim.set_faults(malformed_rate=0.1)
        report = discover(client, warehouse, DiscoveryOptions(holder_requests=4))
        assert not report.sources_failed and report.quarantined > 0
        with warehouse.reader() as session:
            rejected = session.query("SELECT entity, reason, raw_json FROM quarantine "
                                     "WHERE entity IN ('leaderboard', 'holders')")  # fmt: skip
            sighted = session.query(
                "SELECT count(*) FROM candidate_sightings WHERE source <> 'registry'"
            )[0][0]
        # The quarantine keeps one row per distinct raw row: a wallet corrupted the same way on
        # two boards that agree (volume:0 and volume:30 in a young world) is stored once.
        assert 0 < len(rejected) <= report.quarantined
        assert all(ROW_NAMED.match(reason) for _entity, reason, _raw in rejected), rejected
        extras = [
            r for _e, r, _raw in rejected if re.search(r": (rankingChange|id|xUserId|profit):", r)
        ]
        assert extras, "the corrupted extra fields were quarantined by name"
        # Nothing of a rejected row was written: its address is no sighting of that board.
        for _entity, reason, raw in rejected:
            board = reason.split(" row ")[0].split(" ", 1)[1]
            address = str(json.loads(raw).get("walletAddress", "")).lower()
            with warehouse.reader() as session:
                assert not session.query(
                    "SELECT 1 FROM candidate_sightings WHERE board = $b AND address = $a "
                    "AND rank = $r",
                    {"b": board, "a": address, "r": int(reason.split(" row ")[1].split(":")[0])},
                )
        assert sighted + report.quarantined == report.items_fetched
