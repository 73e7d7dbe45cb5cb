"""UNOFFICIAL web-app route: the leaderboard (opinion-api.md §3.6), and its ground truth.

Values are computed from the world's own fills (every trading wallet: tracked whales and the
ordinary traders) over each period: ``volume`` = USD traded, ``profit`` = realised profit of
sells and merges, ``points`` = 1 per $10 traded + 5 per fill (``aggregates.leaderboard_value``).
Like a web app's cached board, a ranking is taken at the start of the current minute, and the
ground truth (``/_sim/truth/leaderboard``) uses that same moment, so the two always agree.

Live quirks kept: ``rankingValue`` is a decimal string but shows ``""`` or ``"0"`` for about one
wallet in ten (the same wallets on every board); ``avatar`` is sometimes ``""``; ``xUsername`` and
``xUserId`` appear on some rows; every row carries ``id``, ``rankingChange`` (places gained since
the previous period's ranking) and ``rankingType``. No ``total``: the route returns ``list`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from opinion_pipeline.simulator.aggregates import LEADERBOARD_TYPES
from opinion_pipeline.simulator.markets import DAY
from opinion_pipeline.simulator.util import dec_str, digest
from opinion_pipeline.simulator.wallets import Wallet
from opinion_pipeline.simulator.world import World

LEADERBOARD_PATH = "/api/bsc/api/v2/leaderboard"
LEADERBOARD_MAX = 100
PERIODS = (0, 1, 7, 30)
RANKING_TYPES = {"volume": 1, "profit": 2, "points": 3}
BOARD_MOMENT = 60  # rankings are taken at the start of the minute

Ranked = tuple[tuple[Wallet, Decimal], ...]
BadRequest = Callable[[str], Exception]


def board_moment(now: int) -> int:
    return now - now % BOARD_MOMENT


@lru_cache(maxsize=64)
def ranking(world: World, moment: int, data_type: str, period: int) -> Ranked:
    """The true ranking at ``moment``: (wallet, value), best first, ties by address."""
    return tuple(world.leaderboard(moment, data_type, period))


def _previous_ranks(world: World, moment: int, data_type: str, period: int) -> dict[str, int]:
    earlier = moment - (period or 1) * DAY
    ranked = ranking(world, earlier, data_type, period)
    return {wallet.address: rank for rank, (wallet, _value) in enumerate(ranked, start=1)}


def _shade(world: World, wallet: Wallet) -> int:
    return int(digest(world.seed, "leaderboard", wallet.address)[:8], 16)


def _row(
    world: World, wallet: Wallet, value: Decimal, rank: int, before: int | None, data_type: str
) -> dict[str, Any]:
    shade = _shade(world, wallet)
    shown = {0: "", 1: "0"}.get(shade % 10, dec_str(value))  # the live quirk: "" or "0"
    avatar = f"https://static.sim.invalid/avatar/{shade % 97}.png" if shade % 4 else ""
    row: dict[str, Any] = {
        "id": int(digest(world.seed, "leaderboard-id", wallet.address)[:7], 16),
        "walletAddress": wallet.address,
        "userName": wallet.label,
        "avatar": avatar,
        "rankingValue": shown,
        "rankingChange": 0 if before is None else before - rank,
        "rankingType": RANKING_TYPES[data_type],
    }
    if shade % 3 == 0:
        row["xUsername"] = f"sim_x_{wallet.index}"
        row["xUserId"] = str(10**17 + shade)
    return row


def _int(query: dict[str, list[str]], name: str, default: int, bad: BadRequest) -> int:
    values = query.get(name)
    if not values or values[0] == "":
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise bad(f"invalid parameter {name}: not an integer") from None
    if value < 1 and name != "period":
        raise bad(f"invalid parameter {name}: must be >= 1")
    return value


def leaderboard_rows(
    world: World, now: int, query: dict[str, list[str]], bad: BadRequest, other_chain: bool
) -> list[dict[str, Any]]:
    """The route's ``list``: ``limit`` (max 100) rows of page ``page`` of one board."""
    limit = min(_int(query, "limit", LEADERBOARD_MAX, bad), LEADERBOARD_MAX)
    page = _int(query, "page", 1, bad)
    data_type = (query.get("dataType") or ["volume"])[0] or "volume"
    if data_type not in LEADERBOARD_TYPES:
        raise bad("invalid parameter dataType: use volume, profit or points")
    period = _int(query, "period", 0, bad)
    if period not in PERIODS:
        raise bad("invalid parameter period: use 0, 1, 7 or 30")
    if other_chain:
        return []
    moment = board_moment(now)
    ranked = ranking(world, moment, data_type, period)
    chosen = ranked[(page - 1) * limit : page * limit]
    before = _previous_ranks(world, moment, data_type, period) if chosen else {}
    first = (page - 1) * limit + 1
    return [
        _row(world, wallet, value, rank, before.get(wallet.address), data_type)
        for rank, (wallet, value) in enumerate(chosen, start=first)
    ]


def truth_leaderboard(world: World, now: int, query: dict[str, list[str]]) -> dict[str, Any]:
    """Every wallet of one board (or all twelve), true values, the profile of each wallet."""
    moment = board_moment(now)
    types = [query["dataType"][0]] if query.get("dataType") else list(LEADERBOARD_TYPES)
    periods = [int(query["period"][0])] if query.get("period") else list(PERIODS)
    boards = []
    for data_type in types:
        for period in periods:
            ranked = ranking(world, moment, data_type, period)
            rows = [
                {
                    "rank": rank,
                    "walletAddress": wallet.address,
                    "profile": wallet.profile,
                    "value": dec_str(value),
                }
                for rank, (wallet, value) in enumerate(ranked, start=1)
            ]
            boards.append({"dataType": data_type, "period": period, "ranking": rows})
    return {"now": now, "moment": moment, "boards": boards}
