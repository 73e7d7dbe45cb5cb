"""Positions snapshots against the in-process world: exact, scheduled per whale, idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from opinion_pipeline.defs.whale_positions.sync import PositionSyncOptions, sync_positions
from opinion_pipeline.simulator.api import user_positions
from opinion_pipeline_tests.conftest import write_whales_file
from opinion_pipeline_tests.defs.whale_positions.helpers import sync_all, world_now
from opinion_pipeline_tests.fakes import FakeOpinionAPI

pytestmark = pytest.mark.unit
EMPTY = "0x" + "ab" * 20  # a wallet the world does not know: no positions at all


def _api_positions(world, wallet: str) -> dict[tuple[int, int], tuple[Decimal, int]]:
    rows = []
    for page in range(1, 40):
        query = {"page": [str(page)], "limit": ["20"]}
        rows += user_positions(world, world.now(), wallet, query).result["list"]
    return {
        (r["marketId"], r["outcomeSide"]): (Decimal(r["sharesOwned"]), r["claimStatus"])
        for r in rows
    }


def test_a_snapshot_equals_the_worlds_positions(world, fake_api, warehouse, tmp_path):
    wallets = [
        {"address": w.address, "label": w.label, "profile": w.profile} for w in world.wallets
    ] + [{"address": EMPTY, "label": "empty", "profile": ""}]
    registry_file = write_whales_file(tmp_path / "whales.csv", wallets)
    report = sync_all(fake_api, warehouse, registry_file, world)
    with warehouse.connection() as conn:
        stored = conn.execute(
            "SELECT wallet, market_id, outcome_side, shares_owned, claim_status, mark_price, "
            "current_value FROM whale_positions"
        ).fetchall()
        snapshots = conn.execute(
            "SELECT wallet, positions, complete FROM position_snapshots"
        ).fetchall()
    assert len(stored) > 20
    for wallet in world.wallets:
        mine = {
            (m, s): (shares, claim)
            for w, m, s, shares, claim, _, _ in stored
            if w == wallet.address
        }
        assert mine == _api_positions(world, wallet.address), wallet.label
    for _w, _m, _s, shares, _c, mark, value in stored:
        assert mark * shares == value  # the simulator's prices have 3 decimals: exact
    assert sorted(w for w, _, _ in snapshots) == sorted(
        [*(w.address for w in world.wallets), EMPTY]
    )
    assert all(complete for _, _, complete in snapshots)
    assert [(w, n) for w, n, _ in snapshots if n == 0] == [(EMPTY, 0)], "empty ones recorded too"
    assert report.requests >= len(world.wallets)  # one page per whale at least
    assert 0 < report.extra["budget_share"] < 1


def test_active_whales_every_15_minutes_the_rest_hourly(world, fake_api, warehouse, registry_file):
    sync_all(fake_api, warehouse, registry_file, world)
    with warehouse.connection() as conn:
        active = {
            w
            for (w,) in conn.execute(
                "SELECT wallet FROM trades GROUP BY wallet "
                "HAVING max(created_at) >= to_timestamp($now) - INTERVAL 7 DAY",
                {"now": world.now()},
            ).fetchall()
        }
    assert 0 < len(active) < len(world.wallets)
    options = PositionSyncOptions()
    world.clock.advance(5 * 60)
    early = sync_positions(fake_api, warehouse, options, now=world_now(world))
    assert early.extra["whales_due"] == 0
    world.clock.advance(10 * 60)
    quarter = sync_positions(fake_api, warehouse, options, now=world_now(world))
    assert quarter.extra["whales_due"] == len(active) == quarter.extra["whales_due_active"]
    world.clock.advance(45 * 60)
    hourly = sync_positions(fake_api, warehouse, options, now=world_now(world))
    assert hourly.extra["whales_due"] == len(world.wallets)


def test_rerunning_a_snapshot_writes_nothing_new(world, fake_api, warehouse, registry_file):
    first = sync_all(fake_api, warehouse, registry_file, world)
    # The same snapshot time again (a retried run); 1-minute gaps make every whale due at once.
    options = PositionSyncOptions(active_minutes=1, quiet_minutes=1)
    again = sync_positions(fake_api, warehouse, options, now=world_now(world))
    assert again.extra["whales_due"] == len(world.wallets)
    assert first.new_rows > 0 and again.new_rows == 0
    with warehouse.connection() as conn:
        keys, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (wallet, market_id, outcome_side, snapshot_at)) "
            "FROM whale_positions"
        ).fetchone()
    assert keys == distinct == first.new_rows


class _SpoilsOne(FakeOpinionAPI):
    def list_wallet_positions(self, wallet):
        rows = super().list_wallet_positions(wallet)
        if rows and wallet == _VICTIM.get(self.world_id):
            rows[0] = {**rows[0], "sharesOwned": "-5"}
        return rows


_VICTIM: dict[str, str] = {}


def test_a_bad_row_is_quarantined_and_its_snapshot_marked_incomplete(
    world, warehouse, registry_file
):
    api = _SpoilsOne.over(world)
    victim = next(w.address for w in world.wallets if _api_positions(world, w.address))
    _VICTIM[api.world_id] = victim
    report = sync_all(api, warehouse, registry_file, world)
    assert report.quarantined == 1 and "sharesOwned" in report.rejects[0][1].reason
    with warehouse.connection() as conn:
        complete = dict(conn.execute("SELECT wallet, complete FROM position_snapshots").fetchall())
        quarantined = conn.execute(
            "SELECT wallet FROM quarantine WHERE entity = 'position'"
        ).fetchall()
    assert complete[victim] is False and sum(complete.values()) == len(world.wallets) - 1
    assert quarantined == [(victim,)]
