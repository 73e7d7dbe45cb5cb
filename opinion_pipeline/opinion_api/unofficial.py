"""UNOFFICIAL web-app routes: the leaderboard (§3.6) and market holders (§3.7).

Neither route is in the Opinion API docs: they are what the web app calls, seen in third-party
code, and may change or vanish without notice. Everything built on them is optional (discovery
turns them off with ``OPINION_DISCOVERY=off``). Their requests go through the client's own
transport, so they share the key's pacing limiter and retry policy with every official route.

A route that answers 404, HTML, or JSON of another shape raises :class:`UnofficialRouteError`,
whose message says which UNOFFICIAL route broke and how to turn it off; callers fail only the
work that depends on that route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster import EnvVar

from opinion_pipeline.opinion_api import errors
from opinion_pipeline.opinion_api.paging import page_rows
from opinion_pipeline.opinion_api.transport import describe_route

if TYPE_CHECKING:
    from opinion_pipeline.opinion_api.client import OpinionAPI

LEADERBOARD_TYPES = ("volume", "profit", "points")
LEADERBOARD_PERIODS = (0, 1, 7, 30)
LEADERBOARD_LIMIT = 100  # the web app asks for the top 100 of a board
HOLDER_SIDES = ("yes", "no")
HOLDER_LIMIT = 20
_BROKEN = (errors.OpinionNotFoundError, errors.OpinionPayloadError, errors.OpinionBadRequestError)


class UnofficialRouteError(errors.OpinionAPIError):
    """An UNOFFICIAL route vanished or changed shape (404, HTML, unexpected JSON)."""


def _broken(name: str, route: str, error: errors.OpinionAPIError) -> UnofficialRouteError:
    return UnofficialRouteError(
        f"UNOFFICIAL route {name} ({route}) looks vanished or changed: {error}. It is not part "
        f"of the documented API; discovery from it is skipped until it answers again "
        f"(OPINION_DISCOVERY=off turns discovery off)",
        route=route,
    )


def holders_url(leaderboard_url: str, market_id: int) -> str:
    """The holders route lives beside the leaderboard in the same web-app API."""
    root = leaderboard_url.rstrip("/")
    if root.endswith("/leaderboard"):
        root = root[: -len("/leaderboard")]
    return f"{root}/topic/{int(market_id)}/holder"


def _leaderboard_url(api: OpinionAPI) -> str:
    value: Any = api.leaderboard_url
    return (value.get_value() or "") if isinstance(value, EnvVar) else str(value)


def _get(api: OpinionAPI, name: str, url: str, params: dict[str, Any]) -> tuple[int | None, list]:
    route = describe_route(url, params)
    try:
        result = api._get_transport().get(url, params)
        return page_rows(result, route)
    except _BROKEN as error:
        raise _broken(name, route, error) from None


def leaderboard(
    api: OpinionAPI, data_type: str, period: int, *, limit: int = LEADERBOARD_LIMIT
) -> list[dict[str, Any]]:
    """UNOFFICIAL: the top ``limit`` (100) of one board (``dataType`` x ``period`` days, 0 =
    all time). Its requests share the key's pacing with the API routes (one budget per key).

    Rows as sent: walletAddress, userName, avatar, rankingValue (decimal string; ``""`` and
    ``"0"`` are sent for real traders), id, rankingChange, rankingType, optional xUsername.
    """
    if data_type not in LEADERBOARD_TYPES:
        raise errors.OpinionConfigError(f"data_type must be one of {LEADERBOARD_TYPES}")
    if period not in LEADERBOARD_PERIODS:
        raise errors.OpinionConfigError(f"period must be one of {LEADERBOARD_PERIODS}")
    params = {
        "limit": int(limit),
        "dataType": data_type,
        "chainId": api.chain_id,
        "period": period,
    }
    _total, rows = _get(api, "leaderboard", _leaderboard_url(api), params)
    return rows


def market_holders(
    api: OpinionAPI, market_id: int, side: str, *, limit: int = HOLDER_LIMIT
) -> tuple[int | None, list[dict[str, Any]]]:
    """UNOFFICIAL: (total, first page) of a market's holders of one side, largest first.

    Rows as sent: walletAddress, userName, avatar, profit and sharesAmount (JSON numbers).
    One request; only binary markets and categorical children have holders.
    """
    if side not in HOLDER_SIDES:
        raise errors.OpinionConfigError(f"side must be one of {HOLDER_SIDES}")
    url = holders_url(_leaderboard_url(api), market_id)
    params = {"type": side, "chainId": api.chain_id, "page": 1, "limit": min(limit, HOLDER_LIMIT)}
    return _get(api, "market holders", url, params)
