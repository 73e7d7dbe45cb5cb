"""An in-process Opinion API for the fast test tier: the real client over the simulator's world.

``FakeOpinionAPI`` is the pipeline's own ``OpinionAPI`` (paging, page-shift handling, envelopes
of results, typed errors) with its HTTP transport swapped for a call into the simulator's pure
route functions (``simulator.api.answer``) on a ``World`` in this process: the same data as the
HTTP simulator, no sockets, no rate limit, milliseconds per sync. Chosen wallets can be made to
fail, which a real server cannot be told to do for one wallet only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from opinion_pipeline.opinion_api import OpinionAPI, errors
from opinion_pipeline.opinion_api.stats import Stats
from opinion_pipeline.opinion_api.transport import describe_route
from opinion_pipeline.simulator.api import ApiError, answer, match_route
from opinion_pipeline.simulator.clock import SimClock
from opinion_pipeline.simulator.world import World

FAKE_BASE_URL = "http://simulator.invalid/openapi"
FAKE_KEY = "fake-key"


def small_world(
    *, seed: int = 7, markets: int = 30, wallets: int = 8, history_days: float = 3.0, start: int
) -> World:
    """A world like the HTTP tests' SMALL_WORLD, with its clock frozen at ``start``."""
    return World(
        seed=seed,
        markets=markets,
        wallets=wallets,
        history_days=history_days,
        start=start,
        clock=SimClock(start, 0.0),
    )


class InProcessTransport:
    """Answers ``get(url, params)`` from the world, as the HTTP transport would."""

    def __init__(self, world: World, stats: Stats, failing: Mapping[str, Exception]) -> None:
        self.world = world
        self.stats = stats
        self.failing = dict(failing)

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        route_text = describe_route(url, params)
        path = urlsplit(url).path
        self.stats.add("requests")
        for wallet, error in self.failing.items():
            if wallet in path:
                self.stats.add("errors")
                raise error
        route, path_params = match_route(path)
        query = {name: [str(value)] for name, value in (params or {}).items() if value is not None}
        try:
            return answer(self.world, route, path_params, query).result
        except ApiError as error:
            self.stats.add("errors")
            raise errors.OpinionHTTPError(
                f"{route_text} failed with HTTP {error.status} (not retried)",
                route=route_text,
                status=error.status,
                attempts=1,
            ) from None

    def close(self) -> None:
        return None


# Dagster rebuilds a resource from its config fields before a run, dropping private state,
# so a fake finds its world here by the ``world_id`` field it carries.
_WORLDS: dict[str, tuple[World, dict[str, Exception]]] = {}


class FakeOpinionAPI(OpinionAPI):
    """``OpinionAPI`` over an in-process world; ``fail_wallets`` raise on their trades route."""

    world_id: str = ""

    @classmethod
    def over(
        cls, world: World, *, fail_wallets: Mapping[str, Exception] | None = None
    ) -> FakeOpinionAPI:
        world_id = f"world-{id(world)}-{len(_WORLDS)}"
        _WORLDS[world_id] = (world, dict(fail_wallets or {}))
        return cls(base_url=FAKE_BASE_URL, api_key=FAKE_KEY, world_id=world_id)

    def _build_transport(self) -> Any:
        if self.world_id not in _WORLDS:
            raise RuntimeError("build the fake with FakeOpinionAPI.over(world)")
        world, failing = _WORLDS[self.world_id]
        return InProcessTransport(world, self._stats, failing)


def unreachable(wallet: str) -> errors.OpinionRetriesExhaustedError:
    """The error a wallet gets when its requests keep failing (what the fakes raise)."""
    route = f"GET /openapi/trade/user/{wallet}"
    return errors.OpinionRetriesExhaustedError(
        f"{route} failed after 4 attempts: last error HTTP 503",
        route=route,
        attempts=4,
        reason="HTTP 503",
    )
