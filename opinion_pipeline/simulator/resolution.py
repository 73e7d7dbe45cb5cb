"""Who wins a resolved market, and which winning positions get claimed, and when.

Markets resolve on their own timeline (markets.py: Activated -> Resolving -> Resolved as the
clock passes cutoff + delay). A winning position is claimed by its wallet for about 60 % of
(wallet, market, side) triples, some seconds to two days after resolution; the rest stay
Claimable forever, and losing positions are never redeemed (claimStatus 0, value 0), as on the
venue where nothing forces a holder to redeem.
"""

from __future__ import annotations

from opinion_pipeline.simulator.markets import DAY, Market
from opinion_pipeline.simulator.util import digest

CLAIM_SHARE = 6  # of 10 winning positions are claimed
CLAIM_NONE, CLAIM_CLAIMABLE, CLAIM_CLAIMED = 0, 1, 3


def is_resolved(market: Market, now: int) -> bool:
    return market.status(now) == 4


def winning_side(market: Market) -> int:
    """1 (Yes) or 2 (No): the side whose token is the market's result token once resolved."""
    return 1 if market.wins else 2


def claim_time(seed: int, wallet: str, market: Market, side: int) -> int | None:
    """When ``wallet`` claims its winning ``side`` of ``market``; None if it never does."""
    if side != winning_side(market) or market.fate != "resolve" or not market.cutoff_at:
        return None
    shade = int(digest(seed, "claim", wallet, market.market_id, side)[:10], 16)
    if shade % 10 >= CLAIM_SHARE:
        return None
    resolved_at = market.cutoff_at + market.resolve_delay
    return resolved_at + 30 + (shade // 10) % (2 * DAY)


def claim_status(seed: int, wallet: str, market: Market, side: int, now: int) -> int:
    """claimStatus of a position at ``now``: 0 None, 1 Claimable, 3 Claimed."""
    if not is_resolved(market, now) or side != winning_side(market):
        return CLAIM_NONE
    claimed = claim_time(seed, wallet, market, side)
    return CLAIM_CLAIMED if claimed is not None and claimed <= now else CLAIM_CLAIMABLE
