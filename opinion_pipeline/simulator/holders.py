"""UNOFFICIAL web-app route: a market's top holders per side (opinion-api.md §3.7), and its truth.

``GET /api/bsc/api/v2/topic/{marketId}/holder?type=yes|no&chainId=56&page=&limit=`` answers
``{"total", "list": [{walletAddress, userName, avatar, profit, sharesAmount}]}`` with ``profit``
and ``sharesAmount`` as JSON **numbers** (unlike every other route's decimal strings). Holders are
every wallet (tracked or not) with net shares > 0 on that side, largest first, ties by address;
``profit`` is the unrealised profit at the current mid price. Only binary markets and categorical
children have holders: a categorical parent answers an empty list. Paged like the other lists
(``limit`` at most 20). Positions are taken at the start of the minute, like the leaderboard, and
``/_sim/truth/holders`` gives the exact figures (decimal strings) at that same moment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from opinion_pipeline.simulator.leaderboard import board_moment
from opinion_pipeline.simulator.markets import Market
from opinion_pipeline.simulator.util import EXACT, dec_str, digest, scaled
from opinion_pipeline.simulator.world import World

HOLDERS_PATTERN = re.compile(r"^/api/bsc/api/v2/topic/([^/]+)/holder$")
HOLDERS_ROUTE = "/api/bsc/api/v2/topic/{id}/holder"
MAX_LIMIT = 20
SIDES = {"yes": 1, "no": 2}

# (leaf index, outcome side) -> [(address, net shares in 10^-6, cost in 10^-9 of what's held)]
Book = dict[tuple[int, int], list[tuple[str, int, int]]]
Errors = Callable[[int, str], Exception]


@lru_cache(maxsize=8)
def holdings(world: World, moment: int) -> Book:
    """Every open position of every wallet at ``moment``, per leaf market and side."""
    per_wallet: dict[tuple[int, int, str], list[int]] = {}
    for wallet in world.population:
        for fill in world.fills(wallet, moment):
            entry = per_wallet.setdefault((fill.leaf, fill.outcome_side, wallet.address), [0, 0, 0])
            if fill.side == 0:  # BUY adds; SELL and MERGE reduce the side they name
                entry[0] += fill.shares
                entry[1] += fill.shares
                entry[2] += fill.shares * fill.price
            else:
                entry[0] -= fill.shares
    book: Book = {}
    for (leaf, side, address), (net, bought, cost) in per_wallet.items():
        if net > 0:
            average_cost = cost * net // bought if bought else 0
            book.setdefault((leaf, side), []).append((address, net, average_cost))
    for rows in book.values():
        rows.sort(key=lambda row: (-row[1], row[0]))
    return book


def _leaf(world: World, now: int, raw_id: str, error: Errors) -> Market | None:
    """The market holders are asked for; None for a categorical parent (no holders)."""
    try:
        market_id = int(raw_id)
    except ValueError:
        raise error(400, "invalid parameter marketId: not an integer") from None
    market = world.by_id.get(market_id)
    if market is None or market.created_at > now:
        raise error(404, f"topic {market_id} not found")
    return None if market.children else market


def _side(query: dict[str, list[str]], error: Errors) -> int:
    name = (query.get("type") or [""])[0].lower()
    if name not in SIDES:
        raise error(400, "invalid parameter type: use yes or no")
    return SIDES[name]


def _figures(world: World, market: Market, side: int, moment: int) -> list[tuple[Any, ...]]:
    """(address, shares, unrealised profit) as exact Decimals, largest holding first."""
    index = world.leaves.index(market)
    mid = market.mid_price(side, moment)
    rows = []
    for address, net, cost in holdings(world, moment).get((index, side), []):
        shares = scaled(net, 6)
        profit = scaled(mid * net - cost, 9)
        rows.append((address, shares, profit))
    return rows


def holder_page(
    world: World, now: int, raw_id: str, query: dict[str, list[str]], error: Errors,
    *, page: int, limit: int, other_chain: bool,
) -> dict[str, Any]:  # fmt: skip
    """The route's result for one page."""
    market = _leaf(world, now, raw_id, error)
    side = _side(query, error)
    if market is None or other_chain:
        return {"total": 0, "list": []}
    rows = _figures(world, market, side, board_moment(now))
    chosen = rows[(page - 1) * limit : page * limit]
    out = []
    for address, shares, profit in chosen:
        wallet = world.by_address[address]
        shade = int(digest(world.seed, "holder", address)[:8], 16)
        avatar = f"https://static.sim.invalid/avatar/{shade % 97}.png" if shade % 3 else ""
        out.append(
            {
                "walletAddress": address,
                "userName": wallet.label,
                "avatar": avatar,
                "profit": float(round(profit, 6)),
                "sharesAmount": float(round(shares, 6)),
            }
        )
    return {"total": len(rows), "list": out}


def truth_holders(world: World, now: int, query: dict[str, list[str]]) -> dict[str, Any]:
    """Exact holders of one market (``marketId``) per side, or of every leaf without it."""
    moment = board_moment(now)
    wanted = (query.get("marketId") or [""])[0]
    leaves = [leaf for leaf in world.leaves if not wanted or str(leaf.market_id) == wanted]
    markets = []
    for leaf in leaves:
        if leaf.created_at > now:
            continue
        sides = {}
        for name, side in SIDES.items():
            sides[name] = [
                {
                    "walletAddress": address,
                    "profile": world.by_address[address].profile,
                    "shares": dec_str(shares),
                    "profit": dec_str(profit.quantize(Decimal("1e-9"), context=EXACT)),
                }
                for address, shares, profit in _figures(world, leaf, side, moment)
            ]
        markets.append({"marketId": leaf.market_id, "holders": sides})
    return {"now": now, "moment": moment, "markets": markets}
