"""The API routes as pure functions: (world, path, query) -> result, or an ApiError.

Kept apart from the HTTP layer so that paging, filters and sorting can be read (and tested)
without sockets; the server adds auth, rate limiting, faults and the envelope around them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opinion_pipeline.simulator.holders import HOLDERS_PATTERN, HOLDERS_ROUTE, holder_page
from opinion_pipeline.simulator.holders import MAX_LIMIT as HOLDERS_MAX
from opinion_pipeline.simulator.leaderboard import LEADERBOARD_PATH, leaderboard_rows
from opinion_pipeline.simulator.markets import DAY, NEVER, Market, leaf_as_market, market_data
from opinion_pipeline.simulator.positions import positions
from opinion_pipeline.simulator.util import CHAIN_ID
from opinion_pipeline.simulator.world import World

MAX_LIMIT = 20
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
STATUS_FILTERS = {"activated": 2, "resolved": 4}

Query = dict[str, list[str]]


class ApiError(Exception):
    """An error answer: HTTP status == errno, with a message for errmsg."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Answer:
    result: dict[str, Any]
    rows: str | None = None  # kind of result["list"] rows, for the malformed-row fault


def int_param(query: Query, name: str, default: int | None, minimum: int | None = None) -> Any:
    values = query.get(name)
    if not values or values[0] == "":
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise ApiError(400, f"invalid parameter {name}: not an integer") from None
    if minimum is not None and value < minimum:
        raise ApiError(400, f"invalid parameter {name}: must be >= {minimum}")
    return value


def page_window(query: Query, maximum: int = MAX_LIMIT, default: int = 10) -> tuple[int, int]:
    """(page, limit): page is 1-based; limit above the maximum is clamped to it."""
    page = int_param(query, "page", 1, minimum=1)
    limit = int_param(query, "limit", default, minimum=1)
    return page, min(limit, maximum)


def page_of(items: Sequence[Any], page: int, limit: int) -> Sequence[Any]:
    return items[(page - 1) * limit : page * limit]


def other_chain(query: Query) -> bool:
    """A chainId other than BNB Chain's matches nothing."""
    values = query.get("chainId")
    return bool(values and values[0] not in ("", CHAIN_ID))


def _listing(rows: list[Any], total: int, kind: str) -> Answer:
    return Answer({"total": total, "list": rows}, rows=kind)


SORT_KEYS: dict[int, Callable[[Market, int], Any]] = {
    1: lambda m, now: (-m.created_at, -m.market_id),
    2: lambda m, now: (m.cutoff_at <= now, m.cutoff_at or NEVER, m.market_id),
    3: lambda m, now: (-m.volume_units(-NEVER, now + 1), m.market_id),
    4: lambda m, now: (m.volume_units(-NEVER, now + 1), m.market_id),
    5: lambda m, now: (-m.volume_units(now + 1 - DAY, now + 1), m.market_id),
    6: lambda m, now: (m.volume_units(now + 1 - DAY, now + 1), m.market_id),
    7: lambda m, now: (-m.volume_units(now + 1 - 7 * DAY, now + 1), m.market_id),
    8: lambda m, now: (m.volume_units(now + 1 - 7 * DAY, now + 1), m.market_id),
}


def market_list(world: World, now: int, query: Query) -> Answer:
    page, limit = page_window(query)
    status_name = (query.get("status") or [""])[0]
    if status_name and status_name not in STATUS_FILTERS:
        raise ApiError(400, "invalid parameter status: use activated or resolved")
    market_type = int_param(query, "marketType", 0)
    if market_type not in (0, 1, 2):
        raise ApiError(400, "invalid parameter marketType: use 0, 1 or 2")
    sort_by = int_param(query, "sortBy", 1)
    markets = [] if other_chain(query) else world.visible_markets(now)
    if market_type != 2:
        markets = [market for market in markets if market.market_type == market_type]
    if status_name:
        wanted = STATUS_FILTERS[status_name]
        markets = [market for market in markets if market.status(now) == wanted]
    sort_key = SORT_KEYS.get(sort_by, lambda m, now: m.market_id)
    markets.sort(key=lambda market: sort_key(market, now))
    rows = [market_data(market, now) for market in page_of(markets, page, limit)]
    return _listing(rows, len(markets), "market")


def _visible_market(world: World, now: int, raw_id: str) -> Market:
    try:
        market_id = int(raw_id)
    except ValueError:
        raise ApiError(400, "invalid parameter marketId: not an integer") from None
    market = world.by_id.get(market_id)
    if market is None or market.created_at > now:
        raise ApiError(404, f"market {market_id} not found")
    return market


def market_detail(world: World, now: int, raw_id: str) -> Answer:
    market = _visible_market(world, now, raw_id)
    if market.parent is not None:
        return Answer({"data": leaf_as_market(market, now)})
    return Answer({"data": market_data(market, now, children=False, condition_id=True)})


def categorical_detail(world: World, now: int, raw_id: str) -> Answer:
    market = _visible_market(world, now, raw_id)
    if market.market_type != 1:
        raise ApiError(404, f"market {market.market_id} is not a categorical market")
    return Answer({"data": market_data(market, now, condition_id=True)})


def _wallet_fills(world: World, now: int, raw_wallet: str, query: Query) -> tuple[Any, list[Any]]:
    if not ADDRESS.match(raw_wallet):
        raise ApiError(400, "invalid wallet address")
    wallet = world.wallet(raw_wallet)
    market_id = int_param(query, "marketId", None)
    if wallet is None or other_chain(query):
        return wallet, []
    fills = world.fills(wallet, now)
    if market_id is not None:  # a categorical parent's id selects all its children
        leaves = world.leaves
        wanted = {
            i for i, leaf in enumerate(leaves) if market_id in (leaf.market_id, leaf.root.market_id)
        }
        fills = [fill for fill in fills if fill.leaf in wanted]
    return wallet, fills


def user_trades(world: World, now: int, raw_wallet: str, query: Query) -> Answer:
    page, limit = page_window(query)
    wallet, fills = _wallet_fills(world, now, raw_wallet, query)
    total = len(fills)
    end = max(0, total - (page - 1) * limit)
    chosen = fills[max(0, end - limit) : end][::-1]  # newest first
    return _listing([world.render(wallet, fill) for fill in chosen], total, "trade")


def user_positions(world: World, now: int, raw_wallet: str, query: Query) -> Answer:
    page, limit = page_window(query)
    wallet, fills = _wallet_fills(world, now, raw_wallet, query)
    address = wallet.address if wallet else ""
    rows = positions(fills, world.leaves, now, seed=world.seed, wallet=address)
    return _listing(list(page_of(rows, page, limit)), len(rows), "position")


def leaderboard(world: World, now: int, query: Query) -> Answer:
    """Unofficial route: wallets ranked by volume, profit or points over a period in days."""
    rows = leaderboard_rows(world, now, query, lambda text: ApiError(400, text), other_chain(query))
    return Answer({"list": rows}, rows="leaderboard")


def market_holders(world: World, now: int, raw_id: str, query: Query) -> Answer:
    """Unofficial route: a market's holders of one side (simulator/holders.py)."""
    page, limit = page_window(query, maximum=HOLDERS_MAX)
    result = holder_page(
        world, now, raw_id, query, ApiError, page=page, limit=limit, other_chain=other_chain(query)
    )
    return Answer(result, rows="holder")


ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/openapi/market$"), "/openapi/market"),
    (re.compile(r"^/openapi/market/categorical/([^/]+)$"), "/openapi/market/categorical/{id}"),
    (re.compile(r"^/openapi/market/([^/]+)$"), "/openapi/market/{id}"),
    (re.compile(r"^/openapi/trade/user/([^/]+)$"), "/openapi/trade/user/{wallet}"),
    (re.compile(r"^/openapi/positions/user/([^/]+)$"), "/openapi/positions/user/{wallet}"),
    (re.compile(r"^" + re.escape(LEADERBOARD_PATH) + r"$"), LEADERBOARD_PATH),
    (HOLDERS_PATTERN, HOLDERS_ROUTE),
)


def match_route(path: str) -> tuple[str, tuple[str, ...]]:
    """(route template, path parameters); template "other" for unknown paths."""
    trimmed = path.rstrip("/") or "/"
    for pattern, name in ROUTES:
        found = pattern.match(trimmed)
        if found:
            return name, found.groups()
    return "other", ()


def answer(world: World, route: str, params: tuple[str, ...], query: Query) -> Answer:
    now = world.now()
    if route == "/openapi/market":
        return market_list(world, now, query)
    if route == "/openapi/market/{id}":
        return market_detail(world, now, params[0])
    if route == "/openapi/market/categorical/{id}":
        return categorical_detail(world, now, params[0])
    if route == "/openapi/trade/user/{wallet}":
        return user_trades(world, now, params[0], query)
    if route == "/openapi/positions/user/{wallet}":
        return user_positions(world, now, params[0], query)
    if route == LEADERBOARD_PATH:
        return leaderboard(world, now, query)
    if route == HOLDERS_ROUTE:
        return market_holders(world, now, params[0], query)
    raise ApiError(404, "no such route")
