"""/_sim/truth/pnl: each wallet's PnL and decided positions, from the simulator's own state.

Written apart from the pipeline (integer units from ledger.py, the markets' own fate and the
clock) so that a test can hold the pipeline's figures against it. The rules, per (wallet, leaf
market, outcome side), all fees counted as realized costs:

* resolved market (status 4): realized = proceeds + payout - cost - fees, payout 1 per held
  share of the winning side and 0 per losing share, claimed or not; unrealized 0. A position
  still held at resolution is *decided*, and *won* when its side won.
* nothing held: realized = proceeds - cost - fees.
* otherwise (open, or its market failed/was deleted): basis = held x cost / bought (rounded
  half-even to 10^-18), unrealized = held x current price - basis, realized = proceeds + basis
  - cost - fees.

capital deployed = cost of every buy; ROI = net / capital deployed (null when nothing bought).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from opinion_pipeline.simulator.holdings import round_half_even
from opinion_pipeline.simulator.ledger import Tally, tally
from opinion_pipeline.simulator.markets import Market
from opinion_pipeline.simulator.resolution import claim_time, is_resolved, winning_side
from opinion_pipeline.simulator.util import EXACT, dec_str, scaled
from opinion_pipeline.simulator.wallets import Wallet
from opinion_pipeline.simulator.world import World

E18_PER_COST = 10**9  # cost units 10^-9 -> 10^-18
E18_PER_FEE = 10**5  # fee units 10^-13 -> 10^-18
E18_PER_SHARE = 10**12  # share units 10^-6 -> one quote unit per share, in 10^-18


def _position(market: Market, side: int, entry: Tally, now: int) -> dict[str, int | bool]:
    cost, proceeds = entry.cost * E18_PER_COST, entry.proceeds * E18_PER_COST
    fees = entry.fees * E18_PER_FEE
    held = entry.held
    decided = won = False
    unrealized = 0
    if is_resolved(market, now):
        won_side = side == winning_side(market)
        payout = held * E18_PER_SHARE if won_side else 0
        realized = proceeds + payout - cost - fees
        decided, won = held > 0, held > 0 and won_side
    elif held == 0:
        realized = proceeds - cost - fees
    else:
        basis = round_half_even(held * entry.cost * E18_PER_COST, entry.bought)
        value = held * market.mid_price(side, now) * E18_PER_COST
        unrealized = value - basis
        realized = proceeds + basis - cost - fees
    return {
        "realized": realized,
        "unrealized": unrealized,
        "capital": cost,
        "held": held,
        "decided": decided,
        "won": won,
    }


def _money(units: int) -> str:
    return dec_str(scaled(units, 18))


def wallet_truth(world: World, wallet: Wallet, now: int) -> dict[str, Any]:
    """One wallet's totals and per-position figures at ``now``."""
    markets, totals = [], dict.fromkeys(("realized", "unrealized", "capital"), 0)
    decided = won = claimed = 0
    for (leaf, side), entry in sorted(tally(world.fills(wallet, now)).items()):
        market = world.leaves[leaf]
        figures = _position(market, side, entry, now)
        for name in totals:
            totals[name] += int(figures[name])
        decided += bool(figures["decided"])
        won += bool(figures["won"])
        when = claim_time(world.seed, wallet.address, market, side) if figures["won"] else None
        is_claimed = when is not None and when <= now
        claimed += is_claimed
        markets.append(
            {
                "marketId": market.market_id,
                "outcomeSide": side,
                "realizedPnl": _money(int(figures["realized"])),
                "unrealizedPnl": _money(int(figures["unrealized"])),
                "capitalDeployed": _money(int(figures["capital"])),
                "sharesHeld": dec_str(scaled(int(figures["held"]), 6)),
                "decided": figures["decided"],
                "won": figures["won"],
                "claimed": is_claimed,
            }
        )
    net = totals["realized"] + totals["unrealized"]
    roi = EXACT.divide(Decimal(net), Decimal(totals["capital"])) if totals["capital"] else None
    return {
        "address": wallet.address,
        "realizedPnl": _money(totals["realized"]),
        "unrealizedPnl": _money(totals["unrealized"]),
        "netPnl": _money(net),
        "capitalDeployed": _money(totals["capital"]),
        "roi": None if roi is None else dec_str(roi),
        "decidedPositions": decided,
        "wonPositions": won,
        "claimedPositions": claimed,
        "markets": markets,
    }


def pnl_truth(world: World, now: int, wallet: Wallet | None = None) -> dict[str, Any]:
    wallets = [wallet] if wallet else world.wallets
    return {"now": now, "wallets": [wallet_truth(world, one, now) for one in wallets]}
