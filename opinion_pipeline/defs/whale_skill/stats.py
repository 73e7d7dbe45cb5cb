"""Skill statistics: beta distribution and empirical-Bayes shrinkage, on scipy.

The regularized incomplete beta function and its inverse are scipy.special's ``betainc`` and
``betaincinv``; both are tested against closed forms and the binomial identity
``I_x(a, b) = P(Binomial(a + b - 1, x) >= a)`` for whole a, b.

The prior: a Beta(alpha, beta) fitted to all whales' (won, decided) counts by maximizing the
beta-binomial marginal likelihood (scipy.optimize.minimize, Nelder-Mead over logit(mean) and
log(alpha + beta), the likelihood vectorized with numpy over the distinct pairs). Each whale's
posterior is Beta(alpha + won, beta + lost): its mean is the shrunk win rate, its 5 % and 95 %
quantiles the 90 % credible interval, and whales are ranked by the lower bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

# scipy.optimize is imported where the prior is fitted, not here: this module is loaded with the
# definitions by every run worker, and scipy.optimize adds 0.4-0.6 s to that start-up.

KAPPA_RANGE = (1e-2, 1e6)  # prior strength alpha + beta is kept inside this range
FLAT_PRIOR = (1.0, 1.0)


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if a <= 0 or b <= 0:
        raise ValueError("beta parameters must be > 0")
    return float(special.betainc(a, b, min(max(x, 0.0), 1.0)))


def beta_quantile(p: float, a: float, b: float) -> float:
    """x with I_x(a, b) = p."""
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    return float(special.betaincinv(a, b, p))


def fit_beta_prior(records: Iterable[tuple[int, int]]) -> tuple[float, float]:
    """(alpha, beta) maximizing the marginal likelihood of (won, decided) records.

    Whales with no decided position carry no information and are left out; with fewer than
    two informative whales the flat Beta(1, 1) is returned.
    """
    pairs = np.array([(w, d) for w, d in records if d > 0], dtype=np.int64).reshape(-1, 2)
    if len(pairs) < 2:
        return FLAT_PRIOR
    distinct, counts = np.unique(pairs, axis=0, return_counts=True)
    won, lost = distinct[:, 0].astype(float), (distinct[:, 1] - distinct[:, 0]).astype(float)
    mean = min(max(pairs[:, 0].sum() / pairs[:, 1].sum(), 0.01), 0.99)
    low, high = (math.log(bound) for bound in KAPPA_RANGE)

    def negative(point: np.ndarray) -> float:
        m = 1 / (1 + math.exp(-point[0]))
        kappa = math.exp(point[1])
        a, b = m * kappa, (1 - m) * kappa
        return -float(np.dot(counts, special.betaln(a + won, b + lost) - special.betaln(a, b)))

    from scipy.optimize import minimize

    best = minimize(
        negative,
        np.array([math.log(mean / (1 - mean)), math.log(10.0)]),
        method="Nelder-Mead",
        bounds=[(-10.0, 10.0), (low, high)],
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 2000},
    ).x
    m = 1 / (1 + math.exp(-best[0]))
    kappa = math.exp(min(max(best[1], low), high))
    return m * kappa, (1 - m) * kappa


@dataclass(frozen=True)
class Skill:
    won: int
    decided: int
    win_rate: float | None  # None when withheld
    withheld_reason: str | None
    shrunk: float
    low: float  # 5 % quantile of the posterior
    high: float  # 95 % quantile


def skill(
    won: int, decided: int, prior: tuple[float, float], *, min_decided: int, level: float = 0.90
) -> Skill:
    """One whale's raw (or withheld) and shrunk win rate with its credible interval."""
    if not 0 <= won <= decided:
        raise ValueError(f"won ({won}) must be between 0 and decided ({decided})")
    alpha, beta = prior[0] + won, prior[1] + decided - won
    tail = (1 - level) / 2
    withheld = decided < min_decided
    return Skill(
        won=won,
        decided=decided,
        win_rate=None if withheld else won / decided,
        withheld_reason=(
            f"withheld: {decided} decided position(s), fewer than the {min_decided} required"
            if withheld
            else None
        ),
        shrunk=alpha / (alpha + beta),
        low=beta_quantile(tail, alpha, beta),
        high=beta_quantile(1 - tail, alpha, beta),
    )


def rank_by_lower_bound(skills: Sequence[tuple[str, Skill]]) -> list[tuple[int, str, Skill]]:
    """(rank, name, skill), best lower bound first (ties: more decided, then name)."""
    ordered = sorted(skills, key=lambda item: (-item[1].low, -item[1].decided, item[0]))
    return [(rank, name, value) for rank, (name, value) in enumerate(ordered, start=1)]
