"""The heavy-tailed activity model: when a wallet trades, with bursts and silences.

The default world (``activity="profiles"``) keeps three fixed profiles (wallets.py): every heavy
wallet trades ~4 times an hour, every light one ~0.2. That is too regular to test a polling
planner on, so ``activity="heavy-tailed"`` (``--activity heavy-tailed``) replaces the trade
arrivals of every wallet that is not inactive with this model, drawn from the seed per wallet:

- **Base rate**, log-normal: median ``MEDIAN_PER_HOUR`` (one trade in ~20 hours), sigma
  ``SIGMA`` (a tenth of the wallets above ~0.5 an hour), capped at ``MAX_PER_HOUR``. Most
  wallets are rare; a few are very busy and make most of the trades.
- **Bursts**: about once every ``BURST_EVERY_DAYS`` a wallet turns busy for an exponential
  ``BURST_MEAN_S`` (mean one hour), trading ``BURST_FACTOR`` x its base rate, at least
  ``BURST_MIN_PER_HOUR``: a quiet wallet turning busy for an hour.
- **Silences**: about once every ``SILENCE_EVERY_DAYS`` a wallet stops for an exponential
  ``SILENCE_MEAN_S`` (mean three days); and ``STOP_SHARE`` of the wallets go silent for good at
  a seeded moment between the start of the history and ``STOP_WITHIN_DAYS`` after the start.

Arrivals are generated one after another in time from the wallet's own RNG (state switches and
arrivals from the same stream), so they are the same however the requests are spaced. Within a
state, arrivals are Poisson. The profile names of heavy and light wallets are nominal in this
mode (both draw from the same distribution); inactive wallets keep their old handful of trades.
``benchmarks.polling_model`` draws its trades from this same class.
"""

from __future__ import annotations

import math
import random

ACTIVITIES = ("profiles", "heavy-tailed")
HOUR = 3600.0
DAY = 86400.0
MEDIAN_PER_HOUR = 0.05
SIGMA = 1.8
MAX_PER_HOUR = 30.0
BURST_EVERY_DAYS = 4.0
BURST_MEAN_S = HOUR
BURST_FACTOR = 20.0
BURST_MIN_PER_HOUR = 3.0
SILENCE_EVERY_DAYS = 20.0
SILENCE_MEAN_S = 3 * DAY
STOP_SHARE = 0.1
STOP_WITHIN_DAYS = 30.0


def base_rate_per_hour(rng: random.Random) -> float:
    """A wallet's base trade rate (trades an hour), log-normal and capped."""
    return min(MAX_PER_HOUR, rng.lognormvariate(math.log(MEDIAN_PER_HOUR), SIGMA))


class Arrivals:
    """One wallet's trade times after ``begin`` (seconds), in order: call ``next()``."""

    def __init__(self, rng: random.Random, *, begin: float, start: float) -> None:
        self._rng = rng
        self.base_per_s = base_rate_per_hour(rng) / HOUR
        self.stop_at = math.inf
        if rng.random() < STOP_SHARE:
            self.stop_at = rng.uniform(begin, start + STOP_WITHIN_DAYS * DAY)
        self._t = begin
        self._state = "normal"
        self._until = begin + self._normal_span()

    def _normal_span(self) -> float:
        onset = 1.0 / (BURST_EVERY_DAYS * DAY) + 1.0 / (SILENCE_EVERY_DAYS * DAY)
        return self._rng.expovariate(onset)

    def _switch(self) -> None:
        if self._state != "normal":
            self._state, span = "normal", self._normal_span()
        else:
            burst_odds = SILENCE_EVERY_DAYS / (SILENCE_EVERY_DAYS + BURST_EVERY_DAYS)
            if self._rng.random() < burst_odds:
                self._state, span = "burst", self._rng.expovariate(1.0 / BURST_MEAN_S)
            else:
                self._state, span = "silent", self._rng.expovariate(1.0 / SILENCE_MEAN_S)
        self._until = self._t + span

    def rate_per_s(self) -> float:
        """The rate of the current state (0 while silent)."""
        if self._state == "silent":
            return 0.0
        if self._state == "burst":
            return max(self.base_per_s * BURST_FACTOR, BURST_MIN_PER_HOUR / HOUR)
        return self.base_per_s

    def next(self) -> float:
        """The next trade time; ``math.inf`` once the wallet has stopped for good."""
        while self._t < self.stop_at:
            end = min(self._until, self.stop_at)
            rate = self.rate_per_s()
            if rate > 0:
                at = self._t + self._rng.expovariate(rate)
                if at < end:
                    self._t = at
                    return at
            self._t = end
            if end == self._until:
                self._switch()
        return math.inf
