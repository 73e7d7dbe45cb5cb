"""Skill statistics against known values: closed forms, the binomial identity, planted whales."""

from __future__ import annotations

import math
import random

import pytest

from opinion_pipeline.defs.whale_skill.stats import (
    FLAT_PRIOR,
    beta_cdf,
    beta_quantile,
    fit_beta_prior,
    rank_by_lower_bound,
    skill,
)

pytestmark = pytest.mark.unit


def _binomial_tail(n: int, k: int, x: float) -> float:
    return sum(math.comb(n, j) * x**j * (1 - x) ** (n - j) for j in range(k, n + 1))


@pytest.mark.parametrize("a, b", [(1, 1), (2, 5), (7, 3), (30, 40), (141, 81), (3, 200)])
@pytest.mark.parametrize("x", [0.01, 0.2, 0.5, 0.63, 0.97])
def test_incomplete_beta_equals_the_binomial_tail(a: int, b: int, x: float):
    assert beta_cdf(x, a, b) == pytest.approx(_binomial_tail(a + b - 1, a, x), abs=1e-12)


@pytest.mark.parametrize("p", [0.001, 0.05, 0.3, 0.5, 0.95, 0.999])
def test_quantiles_in_closed_form(p: float):
    assert beta_quantile(p, 1.0, 1.0) == pytest.approx(p, abs=1e-12)
    assert beta_quantile(p, 2.0, 1.0) == pytest.approx(math.sqrt(p), abs=1e-12)
    assert beta_quantile(p, 1.0, 2.0) == pytest.approx(1 - math.sqrt(1 - p), abs=1e-12)
    arcsine = math.sin(math.pi * p / 2) ** 2  # Beta(1/2, 1/2)
    assert beta_quantile(p, 0.5, 0.5) == pytest.approx(arcsine, abs=1e-10)


@pytest.mark.parametrize("a, b", [(3.5, 9.25), (146.0, 94.0), (0.3, 4.0), (500.0, 2.0)])
def test_quantile_inverts_the_cdf(a: float, b: float):
    for p in (0.05, 0.5, 0.95):
        x = beta_quantile(p, a, b)
        assert beta_cdf(x, a, b) == pytest.approx(p, abs=1e-11)
        assert beta_quantile(1 - p, b, a) == pytest.approx(1 - x, abs=1e-10)


def test_the_prior_fit_recovers_a_known_population():
    rng = random.Random(7)
    records = []
    for _ in range(2000):
        rate = rng.betavariate(12, 8)
        decided = rng.randint(10, 80)
        records.append((sum(rng.random() < rate for _ in range(decided)), decided))
    alpha, beta = fit_beta_prior(records)
    assert alpha / (alpha + beta) == pytest.approx(0.6, abs=0.01)
    assert alpha + beta == pytest.approx(20, rel=0.2)


def test_too_little_information_gives_the_flat_prior():
    assert fit_beta_prior([]) == FLAT_PRIOR
    assert fit_beta_prior([(3, 5), (0, 0)]) == FLAT_PRIOR


def _population(rng: random.Random) -> list[tuple[int, int]]:
    records = []
    for _ in range(300):
        rate = rng.betavariate(10, 10)
        decided = rng.randint(5, 120)
        records.append((sum(rng.random() < rate for _ in range(decided)), decided))
    return records


def test_a_steady_whale_outranks_a_lucky_one():
    population = _population(random.Random(11))
    planted = {"lucky": (6, 6), "steady": (140, 220)}
    records = [*population, *planted.values()]
    prior = fit_beta_prior(records)
    skills = [(f"w{i}", skill(*r, prior, min_decided=20)) for i, r in enumerate(population)]
    skills += [(name, skill(*r, prior, min_decided=20)) for name, r in planted.items()]
    ranks = {name: rank for rank, name, _ in rank_by_lower_bound(skills)}
    lucky, steady = dict(skills)["lucky"], dict(skills)["steady"]
    assert ranks["steady"] < ranks["lucky"]
    assert lucky.win_rate is None and steady.win_rate == pytest.approx(140 / 220)
    assert lucky.shrunk < 1 and lucky.low < steady.low
    assert steady.low < steady.shrunk < steady.high
    # the raw rate would have put the lucky whale first
    raw_order = sorted(planted, key=lambda name: -planted[name][0] / planted[name][1])
    assert raw_order[0] == "lucky"


def test_the_withheld_rule_at_19_and_20_decided_positions():
    prior = (10.0, 10.0)
    below, at = skill(12, 19, prior, min_decided=20), skill(12, 20, prior, min_decided=20)
    assert below.win_rate is None and "19 decided" in (below.withheld_reason or "")
    assert at.win_rate == pytest.approx(0.6) and at.withheld_reason is None
    assert below.shrunk == pytest.approx(22 / 39) and at.shrunk == pytest.approx(22 / 40)


def test_the_interval_is_the_posteriors_5_and_95_percent_quantiles():
    s = skill(140, 220, (10.0, 10.0), min_decided=20)
    assert beta_cdf(s.low, 150, 90) == pytest.approx(0.05, abs=1e-10)
    assert beta_cdf(s.high, 150, 90) == pytest.approx(0.95, abs=1e-10)
    with pytest.raises(ValueError):
        skill(5, 4, (1.0, 1.0), min_decided=1)
