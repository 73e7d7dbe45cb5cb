"""Positions coherent with trades, resolution and claims over time, and the PnL truth view.

The PnL truth is checked against a third computation written here from the rendered trades
(Decimal, the trade rows as the API serves them), so neither the simulator's integer ledger nor
the pipeline's SQL is its own witness.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from opinion_pipeline.simulator.api import user_positions
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.markets import DAY
from opinion_pipeline.simulator.truth_pnl import pnl_truth
from opinion_pipeline.simulator.world import World
from opinion_pipeline_tests.simulator.helpers import START

pytestmark = pytest.mark.unit
Q18 = Decimal(1).scaleb(-18)


def _world() -> World:
    return World(
        seed=42, markets=60, wallets=12, history_days=14, start=START, clock=SimClock(START, 0)
    )


def _positions(world: World, address: str) -> list[dict]:
    rows: list[dict] = []
    for page in range(1, 50):
        query = {"limit": ["20"], "page": [str(page)]}
        rows.extend(user_positions(world, world.now(), address, query).result["list"])
    return rows


def _books(world: World, address: str) -> dict[tuple[int, int], dict[str, Decimal]]:
    """Per (market, side) from the trade rows, oldest first; fails if a sale exceeds holdings."""
    rows = world.truth_trades(world.now(), world.wallet(address))[::-1]
    books: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(("bought", "cost", "sold", "proceeds", "fees"), Decimal(0))
    )
    for row in rows:
        book = books[(row["marketId"], row["outcomeSide"])]
        shares, amount = Decimal(row["shares"]), Decimal(row["amount"])
        if row["side"] == "BUY":
            book["bought"] += shares
            book["cost"] += amount
        else:
            book["sold"] += shares
            book["proceeds"] += amount
            assert book["sold"] <= book["bought"], f"{row['side']} beyond holdings: {row}"
        book["fees"] += Decimal(row["fee"])
    return books


def test_positions_are_shares_bought_minus_sold_with_average_entry():
    world = _world()
    checked = 0
    for wallet in world.wallets:
        books = _books(world, wallet.address)
        held = {key: b["bought"] - b["sold"] for key, b in books.items() if b["bought"] > b["sold"]}
        rows = _positions(world, wallet.address)
        assert {(r["marketId"], r["outcomeSide"]): Decimal(r["sharesOwned"]) for r in rows} == held
        for row in rows:
            book = books[(row["marketId"], row["outcomeSide"])]
            average = (book["cost"] / book["bought"]).quantize(Q18)
            assert Decimal(row["avgEntryPrice"]) == average
            checked += 1
    assert checked > 50


def test_markets_resolve_over_time_with_winners_losers_and_some_claims():
    world = _world()
    before = {
        (w.address, r["marketId"], r["outcomeSide"]): r
        for w in world.wallets
        for r in _positions(world, w.address)
    }
    world.clock.advance(3 * DAY)
    after = {
        (w.address, r["marketId"], r["outcomeSide"]): r
        for w in world.wallets
        for r in _positions(world, w.address)
    }
    newly = [
        key
        for key, row in after.items()
        if row["marketStatus"] == 4 and key in before and before[key]["marketStatus"] != 4
    ]
    assert newly, "some held positions resolve as time passes"
    resolved = [row for row in after.values() if row["marketStatus"] == 4]
    winners = [row for row in resolved if Decimal(row["currentValueInQuoteToken"]) > 0]
    losers = [row for row in resolved if Decimal(row["currentValueInQuoteToken"]) == 0]
    assert winners and losers
    assert all(row["claimStatus"] == 0 for row in losers), "losers are never redeemed"
    claims = {row["claimStatus"] for row in winners}
    assert claims == {1, 3}, "some winning positions claimed, some not"
    for row in resolved:  # the result token is the winning side's token
        market = world.by_id[row["marketId"]]
        assert (Decimal(row["currentValueInQuoteToken"]) > 0) == (
            (row["outcomeSide"] == 1) == market.wins
        )


def _expected(world: World, address: str) -> dict[str, object]:
    """PnL per the truth view's documented rules, from the trade rows and market listing."""
    realized = unrealized = capital = Decimal(0)
    decided = won = 0
    markets = {m["marketId"]: m for m in world.truth_markets(world.now())}
    leaves = {c["marketId"]: c for m in markets.values() for c in (m["childMarkets"] or [])}
    rows = {(r["marketId"], r["outcomeSide"]): r for r in _positions(world, address)}
    for (market_id, side), book in _books(world, address).items():
        market = leaves.get(market_id) or markets[market_id]
        tokens = {1: market["yesTokenId"], 2: market["noTokenId"]}
        held = book["bought"] - book["sold"]
        capital += book["cost"]
        base = book["proceeds"] - book["cost"] - book["fees"]
        if market["status"] == 4:
            wins = market["resultTokenId"] == tokens[side]
            realized += base + (held if wins else 0)
            decided += held > 0
            won += held > 0 and wins
        elif held == 0:
            realized += base
        else:
            basis = (held * book["cost"] / book["bought"]).quantize(Q18)
            value = Decimal(rows[(market_id, side)]["currentValueInQuoteToken"])
            unrealized += value - basis
            realized += base + basis
    return {
        "realized": realized,
        "unrealized": unrealized,
        "capital": capital,
        "decided": decided,
        "won": won,
    }


@pytest.mark.parametrize("days", [0, 2])
def test_pnl_truth_matches_an_independent_computation(days: int):
    world = _world()
    world.clock.advance(days * DAY)
    truth = {row["address"]: row for row in pnl_truth(world, world.now())["wallets"]}
    assert sum(row["decidedPositions"] for row in truth.values()) > 0
    for wallet in world.wallets:
        got, want = truth[wallet.address], _expected(world, wallet.address)
        assert Decimal(got["realizedPnl"]) == want["realized"], wallet.label
        assert Decimal(got["unrealizedPnl"]) == want["unrealized"], wallet.label
        assert Decimal(got["capitalDeployed"]) == want["capital"]
        assert Decimal(got["netPnl"]) == want["realized"] + want["unrealized"]
        assert (got["decidedPositions"], got["wonPositions"]) == (want["decided"], want["won"])
