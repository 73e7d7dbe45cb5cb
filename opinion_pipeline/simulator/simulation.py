"""The simulation's state shared by the HTTP layer and the /_sim control routes."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from opinion_pipeline.simulator.counters import Counters
from opinion_pipeline.simulator.faults import Faults
from opinion_pipeline.simulator.limits import RateLimiter
from opinion_pipeline.simulator.world import World


@dataclass
class Simulation:
    """Everything a request handler needs; one per server."""

    world: World
    api_key: str
    limiter: RateLimiter
    faults: Faults
    counters: Counters
    quiet: bool = False

    def note(self, message: str) -> None:
        """Operator-facing notes on stderr (never request details, never the key)."""
        if not self.quiet:
            print(f"[simulator] {message}", file=sys.stderr, flush=True)
