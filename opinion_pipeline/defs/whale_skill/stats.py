"""Skill statistics, pure and dependency-free: beta distribution and empirical-Bayes shrinkage.

Why not scipy: it is not a dependency of the project and these are ~100 lines. The regularized
incomplete beta function uses the continued fraction of Numerical Recipes (modified Lentz), its
quantile a Newton step guarded by bisection (always inside a bracket that shrinks, so it cannot
diverge); both are tested against closed forms and the binomial identity
``I_x(a, b) = P(Binomial(a + b - 1, x) >= a)`` for whole a, b.

The prior: a Beta(alpha, beta) fitted to all whales' (won, decided) counts by maximizing the
beta-binomial marginal likelihood (Nelder-Mead over logit(mean) and log(alpha + beta)). Each
whale's posterior is Beta(alpha + won, beta + lost): its mean is the shrunk win rate, its 5 % and
95 % quantiles the 90 % credible interval, and whales are ranked by the lower bound.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

EPS = 1e-15
TINY = 1e-300
KAPPA_RANGE = (1e-2, 1e6)  # prior strength alpha + beta is kept inside this range
FLAT_PRIOR = (1.0, 1.0)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _continued_fraction(x: float, a: float, b: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > TINY else TINY)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > TINY else TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > TINY else TINY
            h *= d * c
        if abs(d * c - 1.0) < EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for x={x}, a={a}, b={b}")


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if a <= 0 or b <= 0:
        raise ValueError("beta parameters must be > 0")
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(x, a, b) / a
    return 1.0 - front * _continued_fraction(1.0 - x, b, a) / b


def _beta_pdf(x: float, a: float, b: float) -> float:
    return math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - _log_beta(a, b))


@lru_cache(maxsize=65_536)
def beta_quantile(p: float, a: float, b: float) -> float:
    """x with I_x(a, b) = p, to about 1e-12."""
    if not 0 <= p <= 1:
        raise ValueError("p must be in [0, 1]")
    if p in (0.0, 1.0):
        return p
    low, high = 0.0, 1.0
    x = a / (a + b)
    for _ in range(200):
        error = beta_cdf(x, a, b) - p
        if error > 0:
            high = x
        else:
            low = x
        if high - low < 1e-13 or abs(error) < 1e-14:
            return x
        density = _beta_pdf(x, a, b)
        step = x - error / density if density > 0 else -1.0
        x = step if low < step < high else (low + high) / 2
    return x


def _log_marginal(counts: Counter[tuple[int, int]], a: float, b: float) -> float:
    """Beta-binomial log likelihood of (won, decided) counts, without the binomial constants."""
    base = _log_beta(a, b)
    return sum(
        n * (_log_beta(a + won, b + decided - won) - base) for (won, decided), n in counts.items()
    )


def _nelder_mead(f: Callable[[list[float]], float], start: list[float]) -> list[float]:
    """Minimize f over two variables; small, deterministic, enough for a smooth likelihood."""
    simplex = [start, [start[0] + 0.5, start[1]], [start[0], start[1] + 0.5]]
    values = [f(point) for point in simplex]
    for _ in range(400):
        order = sorted(range(3), key=values.__getitem__)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if abs(values[2] - values[0]) < 1e-10:
            break
        centre = [(simplex[0][k] + simplex[1][k]) / 2 for k in range(2)]

        worst = simplex[2]

        def towards(t: float, centre: list[float] = centre, worst: list[float] = worst):
            return [centre[k] + t * (worst[k] - centre[k]) for k in range(2)]

        reflected = towards(-1.0)
        reflected_value = f(reflected)
        if reflected_value < values[0]:
            expanded = towards(-2.0)
            expanded_value = f(expanded)
            simplex[2], values[2] = (
                (expanded, expanded_value)
                if expanded_value < reflected_value
                else (reflected, reflected_value)
            )
        elif reflected_value < values[1]:
            simplex[2], values[2] = reflected, reflected_value
        else:
            contracted = towards(0.5)
            contracted_value = f(contracted)
            if contracted_value < values[2]:
                simplex[2], values[2] = contracted, contracted_value
            else:
                for i in (1, 2):
                    simplex[i] = [(simplex[0][k] + simplex[i][k]) / 2 for k in range(2)]
                    values[i] = f(simplex[i])
    return simplex[min(range(3), key=values.__getitem__)]


def fit_beta_prior(records: Iterable[tuple[int, int]]) -> tuple[float, float]:
    """(alpha, beta) maximizing the marginal likelihood of (won, decided) records.

    Whales with no decided position carry no information and are left out; with fewer than
    two informative whales the flat Beta(1, 1) is returned.
    """
    counts = Counter((won, decided) for won, decided in records if decided > 0)
    if sum(counts.values()) < 2:
        return FLAT_PRIOR
    wins = sum(won * n for (won, _), n in counts.items())
    total = sum(decided * n for (_, decided), n in counts.items())
    mean = min(max(wins / total, 0.01), 0.99)
    low, high = (math.log(bound) for bound in KAPPA_RANGE)

    def negative(point: list[float]) -> float:
        m = 1 / (1 + math.exp(-point[0]))
        kappa = math.exp(min(max(point[1], low), high))
        penalty = (
            0.0 if low <= point[1] <= high else (point[1] - min(max(point[1], low), high)) ** 2
        )
        return -_log_marginal(counts, m * kappa, (1 - m) * kappa) + penalty

    best = _nelder_mead(negative, [math.log(mean / (1 - mean)), math.log(10.0)])
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
